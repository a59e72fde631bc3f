/**
 * A delivered `Message` with the broker's metadata (TS extension, src/protocol/pub-meta.ts):
 * its id and receive time, the publisher's name, and whether it is a retained value.
 */
import type { PubMeta } from '../protocol/pub-meta.js';
import type { Message } from '../types.js';

export function withMeta(m: Message, meta: PubMeta): Message {
  const out: { -readonly [K in keyof Message]: Message[K] } = { ...m };
  if (meta.recv !== undefined) {
    out.id = meta.recv;
    out.receivedAt = Number(meta.recv / 1_000_000n);
  }
  if (meta.from !== undefined) out.from = meta.from;
  if (meta.retained === true) out.retained = true;
  return out;
}
