/**
 * What the publish path hands to the stages downstream (`messages$`): the publish with its args
 * decoded on first read. The schema stage maps the publisher's CBOR bytes (`argsBytes`) into its
 * column buffers without decoding them, so on the routing path a publish costs one small object
 * and no decode, whether or not a stage ever reads `args`.
 */
import { LazyPub } from '../codec/lazy-pub.js';
import type { PubMsg } from '../protocol/messages.js';
import type { Published } from './types.js';

/** A publish read in place: `args` decodes the frame's args once, on first read. */
class LazyPublished implements Published {
  readonly topic: string;
  readonly flags: number;
  readonly id: bigint | undefined;
  /** The frame and the offset of its args (the schema stage reads them there: no view per publish). */
  readonly argsFrame: Uint8Array;
  readonly argsAt: number;
  constructor(
    private readonly msg: LazyPub,
    readonly slot: number | undefined,
    readonly recv: bigint,
    readonly origin: string,
    readonly publisher: string | null | undefined,
  ) {
    this.topic = msg.topic;
    this.flags = msg.flags;
    this.id = msg.id;
    this.argsFrame = msg.frame;
    this.argsAt = msg.argsAt;
  }

  /** @throws DecodeError for args cbor-x refuses (the LazyPub's). */
  get args(): unknown[] { return this.msg.args; }

  get argsBytes(): Uint8Array { return this.msg.argsBytes; }
}

/**
 * The {@link Published} of an accepted publish. A publish read in place keeps its args encoded
 * until something reads `args` (a getter: an object spread of it has no `args`); any other
 * publish (the broker's own, JSON-RPC) has them already.
 * @param argsBytes The LazyPub's args bytes when the caller already took them, so that one view
 * of the frame serves the log and the stages.
 * @param publisher With isolated tenants, who published (`Published.publisher`).
 * @throws DecodeError from `args` only, and only for a publish read in place whose args cbor-x
 * refuses: a consumer that reads `args` guards the read.
 */
export function publishedOf(msg: PubMsg, slot: number | undefined, recv: bigint, origin: string,
  argsBytes?: Uint8Array, publisher?: string | null): Published {
  if (msg instanceof LazyPub && argsBytes === undefined) return new LazyPublished(msg, slot, recv, origin, publisher);
  return { topic: msg.topic, args: msg.args, flags: msg.flags, id: msg.id, slot, recv, origin, argsBytes, publisher };
}
