/**
 * Wire metering for `/metrics` and the stats topic: a Link wrapper that counts frames, bytes,
 * publishes in and out, RPC calls, errors and latencies, replays and slow consumers cut, in
 * plain numbers. Nothing is formatted here: the Prometheus registry and the stats topic read
 * these counters when they are scraped (so the routing path pays an increment, not a metric).
 *
 * Frames are classified by their head only (spec §2.2: a definite array whose first element is
 * the type byte). RPC ids and methods are read in place from the canonical CBOR head — the same
 * layout the broker's lazy PUB path reads — because decoding a whole RPC frame again, payload
 * included, would double the cost of every call. JSON (text) frames are counted, not classified.
 *
 * A PUB's topic is counted behind the codec: the broker's decode stage tells the link the topic
 * its decoder interned for the frame (`Link.topicRead`), so the topic's bytes are not hashed
 * twice per publish (issue 20: 10 % of the broker's W3 profile). Frames the codec does not read
 * in place (not canonical, malformed, or no broker behind the link) are read here once the
 * broker has taken them, as before, so that which frames count, and under which topic, does not
 * depend on the decoder.
 */
import { Observable } from '../internal/rx.js';
import { decodeCbor } from '../codec/cbor.js';
import { internTopic } from '../codec/topic-intern.js';
import type { Frame, FrameParts, Link } from '../transport/link.js';
import { RpcLatency } from './rpc-latency.js';

/** Distinct topics counted; later ones are counted under `"__other__"`. */
export const MAX_TOPICS = 1_000;
interface LastTopic { topic: string; entry: { published: number } | undefined }

/** Calls remembered per link while they await their answer; past it the oldest is forgotten. */
const MAX_PENDING_PER_LINK = 10_000;
const TYPE_PUB = 1;
const TYPE_RPC = 2;
const TYPE_ADMIN = 3;
const TYPE_RESPONSE = 4;
/** RESPONSE flags: a streamed item (0x20) is not the end of the call (README streaming RPC). */
const RESPONSE_ITEM = 0x20;

/** Counters of everything that crossed the broker's links since it started. */
export class WireMeter {
  framesIn = 0;
  framesOut = 0;
  bytesIn = 0;
  bytesOut = 0;
  publishesIn = 0;
  publishesOut = 0;
  linksOpened = 0;
  slowConsumersCut = 0;
  replays = 0;
  readonly rpc = new RpcLatency();
  /** PUB frames received per topic (bounded: past {@link MAX_TOPICS} topics, `"__other__"`). */
  readonly topics = new Map<string, { published: number }>();
  private readonly now: () => number;

  constructor(now: () => number = () => performance.now()) {
    this.now = now;
  }

  /** A Link that behaves as `link` and feeds these counters. */
  wrap(link: Link): Link {
    this.linksOpened++;
    return new MeteredLink(link, this);
  }

  /**
   * Counts a frame as it arrives; true for a PUB, whose topic {@link WireMeter.counted} counts
   * once the frame has been handed on. @internal
   */
  inbound(frame: Frame, pending: Map<string, { method: string; start: number }>): boolean {
    this.framesIn++;
    if (typeof frame === 'string') {
      this.bytesIn += frame.length;
      return false;
    }
    this.bytesIn += frame.length;
    const type = typeOf(frame);
    if (type === TYPE_PUB) {
      this.publishesIn++;
      return true;
    } else if (type === TYPE_RPC) {
      const head = rpcHead(frame);
      if (head === undefined) return false;
      if (pending.size >= MAX_PENDING_PER_LINK) pending.delete(pending.keys().next().value!);
      pending.set(head.id, { method: head.method, start: this.now() });
    } else if (type === TYPE_ADMIN && isReactive(frame)) this.replays++;
    return false;
  }

  /**
   * Count the topic of a PUB frame {@link WireMeter.inbound} saw: `decoded`, the topic the
   * broker's codec read from these very bytes, or else read here. @internal
   */
  counted(frame: Uint8Array, decoded: string | undefined, last: LastTopic): void {
    // [type, (id,) topic, …]: the id, a 0x48 8-byte string, is there iff the flags nibble is set.
    let p = afterType(frame);
    if (frame[p] === 0x48) p += 9;
    const t = frame[p] ?? 0;
    if ((t & 0xe0) !== 0x60) return;
    const info = t & 0x1f;
    let len: number;
    if (info < 24) { len = info; p += 1; }
    else if (info === 24) { len = frame[p + 1] ?? 0; p += 2; }
    else return;
    // Else interned by its bytes: no string or copy per frame, and a string whose hash the map knows.
    const topic = decoded ?? internTopic(frame, p, p + len);
    if (topic === last.topic && last.entry !== undefined) {
      last.entry.published++;
      return;
    }
    let entry = this.topics.get(topic);
    if (entry === undefined) {
      const key = this.topics.size >= MAX_TOPICS ? '__other__' : topic;
      entry = this.topics.get(key) ?? { published: 0 };
      this.topics.set(key, entry);
    }
    entry.published++;
    last.topic = topic;
    last.entry = entry;
  }

  /** {@link WireMeter.outbound} of a frame in parts (wildcard deliveries): classified by its head. @internal */
  outboundParts(frame: FrameParts): void {
    this.framesOut++;
    this.bytesOut += frame.length;
    if ((typeByteOf(frame.head) & 0x0f) === TYPE_PUB) this.publishesOut++;
  }

  /** @internal */
  outbound(frame: Frame, pending: Map<string, { method: string; start: number }>): void {
    this.framesOut++;
    if (typeof frame === 'string') {
      this.bytesOut += frame.length;
      return;
    }
    this.bytesOut += frame.length;
    const byte = typeByteOf(frame);
    const type = byte & 0x0f;
    if (type === TYPE_PUB) this.publishesOut++;
    else if (type === TYPE_RESPONSE && pending.size > 0) {
      const flags = byte & 0xf0;
      if (flags === RESPONSE_ITEM) return;
      // A flagged type byte (a stream's END, 0x34) is written `18 xx`: the id is one byte later.
      const at = afterType(frame);
      const id = idAt(frame, at);
      const call = id === undefined ? undefined : pending.get(id);
      if (call === undefined) return;
      pending.delete(id!);
      // Status is a CBOR uint after the id; a stream's END carries the final status too.
      this.rpc.observe(call.method, (this.now() - call.start) / 1000, frame[at + 9] !== 0x00);
    }
  }
}

type Pending = Map<string, { method: string; start: number }>;

/**
 * The metered link: a class, so every instance shares one shape and the broker's hot accesses
 * (`send`, `isOpen`, `bufferedAmount`) stay monomorphic — per-object getters would not.
 */
class MeteredLink implements Link {
  readonly frames$: Link['frames$'];
  readonly pause?: () => void;
  readonly resume?: () => void;
  readonly abort?: () => void;
  readonly probe?: (timeout: number) => Promise<boolean>;
  private readonly pending: Pending = new Map();
  /** The topic of this link's previous publish (see `WireMeter.counted`). */
  private readonly last: LastTopic = { topic: '', entry: undefined };
  /** The PUB frame being handed on whose topic is not counted yet (see `topicRead`). */
  private uncounted: Uint8Array | undefined;

  constructor(private readonly link: Link, private readonly meter: WireMeter) {
    // Not a `tap`: a PUB's topic is counted by the decoder's reading (`topicRead`) while the
    // broker takes the frame, or read here once it has.
    this.frames$ = new Observable<Frame>((subscriber) => link.frames$.subscribe({
      next: (frame) => {
        if (!meter.inbound(frame, this.pending)) return subscriber.next(frame);
        // Restored after: a frame of this link handled while this one is (re-entrant) has its own turn.
        const outer = this.uncounted;
        const bytes = this.uncounted = frame as Uint8Array;
        subscriber.next(frame);
        if (this.uncounted === bytes) meter.counted(bytes, undefined, this.last);
        this.uncounted = outer;
      },
      error: (err: unknown) => subscriber.error(err),
      complete: () => subscriber.complete(),
    }));
    if (link.pause !== undefined && link.resume !== undefined) {
      this.pause = () => link.pause!();
      this.resume = () => link.resume!();
    }
    if (link.abort !== undefined) {
      // The broker aborts only congested links that read nothing (flow-control.ts).
      this.abort = () => {
        if (link.isOpen) meter.slowConsumersCut++;
        link.abort!();
      };
    }
    if (link.probe !== undefined) this.probe = (timeout) => link.probe!(timeout);
  }

  sendParts(frame: FrameParts): void {
    this.meter.outboundParts(frame);
    if (this.link.sendParts !== undefined) this.link.sendParts(frame);
    else this.link.send(frame.bytes());
  }

  topicRead(frame: Uint8Array, topic: string): void {
    if (frame !== this.uncounted) return;
    this.uncounted = undefined;
    this.meter.counted(frame, topic, this.last);
  }

  send(frame: Frame): void {
    this.meter.outbound(frame, this.pending);
    this.link.send(frame);
  }

  close(code?: number, reason?: string): void {
    if (code === 1008 && reason?.startsWith('slow consumer') === true && this.link.isOpen) this.meter.slowConsumersCut++;
    this.link.close(code, reason);
  }

  get isOpen(): boolean { return this.link.isOpen; }
  get bufferedAmount(): number { return this.link.bufferedAmount; }
  /** Flow control sees a slow reader's progress byte by byte through it: never hide it. */
  get writeQueueSize(): number | undefined { return this.link.writeQueueSize; }
  /** What a slow consumer's cut drops (its twin's mark goes back before it, mark-ledger.ts). */
  get unsent(): number | undefined { return this.link.unsent; }
  get remote(): string { return this.link.remote; }
}

/** The type byte of a CBOR frame (first element of a definite array), or -1. */
function typeByteOf(frame: Uint8Array): number {
  const head = frame[0] ?? 0;
  if (head < 0x81 || head > 0x97) return -1;
  const t = frame[1] ?? 0xff;
  if (t < 0x18) return t;
  return t === 0x18 ? frame[2] ?? -1 : -1;
}

/** Where the element after the type byte starts: the byte is written `18 xx` once flags are set (≥ 0x18). */
function afterType(frame: Uint8Array): number {
  return frame[1] === 0x18 ? 3 : 2;
}

function typeOf(frame: Uint8Array): number {
  const byte = typeByteOf(frame);
  return byte < 0 ? -1 : byte & 0x0f;
}

/** The 8-byte id string at `at` (spec §2.4), as a map key; undefined for any other layout. */
function idAt(frame: Uint8Array, at: number): string | undefined {
  if (frame[at] !== 0x48 || frame.length < at + 9) return undefined;
  let key = '';
  for (let i = at + 1; i < at + 9; i++) key += String.fromCharCode(frame[i]!);
  return key;
}

const utf8 = new TextDecoder();

/**
 * `[2, id, method, …]` read in place: the call's id and method; also a streaming call
 * (`[0x22, …]`, its type byte written `18 22`, README "Streaming RPC on the wire").
 */
function rpcHead(frame: Uint8Array): { id: string; method: string } | undefined {
  if (frame[1] !== TYPE_RPC && frame[1] !== 0x18) return undefined;
  const at = afterType(frame);
  const id = idAt(frame, at);
  if (id === undefined) return undefined;
  let p = at + 9;
  const t = frame[p] ?? 0;
  if ((t & 0xe0) !== 0x60) return undefined;
  const info = t & 0x1f;
  let len: number;
  if (info < 24) { len = info; p += 1; }
  else if (info === 24) { len = frame[p + 1] ?? 0; p += 2; }
  else if (info === 25) { len = ((frame[p + 1] ?? 0) << 8) | (frame[p + 2] ?? 0); p += 3; }
  else return undefined;
  return { id, method: utf8.decode(frame.subarray(p, p + len)) };
}

/** An ADMIN frame asking for a replay (`reactive` on, spec §4.7). Admin frames are rare: decoded. */
function isReactive(frame: Uint8Array): boolean {
  try {
    const msg = decodeCbor(frame);
    return msg.type === 'admin' && msg.cmd['cmd'] === 'reactive' && msg.cmd['status'] !== false;
  } catch {
    return false;
  }
}
