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
 * The PUB frame {@link WireCodec.decodeLazy} read in place last and its topic, as the codec
 * interned it: the broker's wire meter (src/http/meter.ts) counts the frame by this topic
 * rather than hashing its bytes a second time. Matched by frame identity; cleared by the reader.
 */
export const lastLazyPub: { frame: Uint8Array | undefined; topic: string } = { frame: undefined, topic: '' };

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
        lastLazyPub.frame = frame;
        lastLazyPub.topic = pub.topic;
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
