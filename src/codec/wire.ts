/**
 * Per-link wire state (spec §1.1): a peer may send binary (CBOR) or text (JSON-RPC) frames
 * at any time, and is answered in the kind it last sent. Pure.
 */
import type { Msg } from '../protocol/messages.js';
import { decodeCbor, encodeCbor } from './cbor.js';
import { decodeJson, encodeJson } from './json.js';
import { decodeLazyPub, LastTopic } from './lazy-pub.js';

/** One frame as it travels on a link: bytes for CBOR, a string for JSON-RPC. */
export type Frame = Uint8Array | string;

/**
 * A binary frame given in parts rather than bytes (a wildcard delivery spliced from the
 * publisher's frame, wildcard-frame.ts): a link can write it where its bytes go (`Link.sendParts`).
 */
export interface FrameParts {
  /** Bytes of the whole frame. */
  readonly length: number;
  /** The frame's first bytes (its CBOR head and type byte at least): what a classifier reads. */
  readonly head: Uint8Array;
  /** Write the frame at `out[at]` (room for `length` bytes); returns the offset after it. */
  writeTo(out: Uint8Array, at: number): number;
  /** The frame as bytes, for a link or a queue that keeps frames. */
  bytes(): Uint8Array;
}

/** Encoder/decoder for one link that remembers the kind of the last frame received. */
export class WireCodec {
  /** `'cbor'` until a text frame arrives; then the kind of the latest frame. */
  kind: 'cbor' | 'json';
  private idAsString = false;
  /** The topics of PUB frames read in place: this link's last, then the broker's shared table. */
  private readonly topics = new LastTopic();

  constructor(kind: 'cbor' | 'json' = 'cbor') {
    this.kind = kind;
  }

  /** Decode a frame and remember its kind. @throws DecodeError */
  decode(frame: Frame): Msg {
    if (typeof frame === 'string') {
      const { msg, idAsString } = decodeJson(frame);
      this.kind = 'json';
      this.idAsString = idAsString;
      return msg;
    }
    const msg = decodeCbor(frame);
    this.kind = 'cbor';
    return msg;
  }

  /**
   * {@link WireCodec.decode}, except that a canonical binary PUB comes back as a `LazyPub`
   * whose args are decoded only when read (the broker's routing path).
   * @throws DecodeError
   */
  decodeLazy(frame: Frame): Msg {
    if (typeof frame !== 'string') {
      const pub = decodeLazyPub(frame, this.topics);
      if (pub !== undefined) {
        this.kind = 'cbor';
        return pub;
      }
    }
    return this.decode(frame);
  }

  /** Encode in the kind this link speaks now. @throws EncodeError */
  encode(msg: Msg): Frame {
    return this.kind === 'cbor' ? encodeCbor(msg) : encodeJson(msg, { idAsString: this.idAsString });
  }
}
