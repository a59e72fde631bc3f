/**
 * The twins' state in the LMDB store's `twins` database: one small key per mark, subscription,
 * exposed method and QoS2 id (`twin-keys.ts`), so a declaration writes one key, never the twin's
 * whole record. Writes run inside the store's transaction.
 */
import type { Database } from 'lmdb';
import type { TwinDelta, TwinRecord } from '../types.js';
import { parseTwinKey, twinKey, twinPrefix } from './twin-keys.js';

/** Every twin, its QoS2 ids in the order they were added. */
export function loadTwinRows(db: Database<unknown, Buffer>): TwinRecord[] {
  type Building = { name: string; mark: bigint; subscriptions: Map<string, number>; exposed: string[] };
  const twins = new Map<string, { record: Building; ack2: [number, bigint][] }>();
  for (const { key, value } of db.getRange({})) {
    const k = parseTwinKey(key);
    let t = twins.get(k.twin);
    if (t === undefined) twins.set(k.twin, t = { record: { name: k.twin, mark: 0n, subscriptions: new Map(), exposed: [] }, ack2: [] });
    const r = t.record;
    if (k.kind === 'm') r.mark = BigInt(value as string);
    else if (k.kind === 's') r.subscriptions.set(k.rest, value as number);
    else if (k.kind === 'e') r.exposed.push(k.rest);
    else t.ack2.push([value as number, BigInt(k.rest)]);
  }
  return [...twins.values()].map(({ record, ack2 }) => ({
    ...record, awaitingAck2: ack2.sort((a, b) => a[0] - b[0]).map(([, id]) => id),
  }));
}

/** Apply one twin's changes; `nextSeq` orders its new QoS2 ids. */
export function applyTwinDelta(db: Database<unknown, Buffer>, nextSeq: () => number, d: TwinDelta): void {
  const { name } = d;
  const markKey = twinKey('m', name);
  if (d.mark !== undefined) void db.put(markKey, d.mark.toString());
  else if (db.get(markKey) === undefined) void db.put(markKey, '0'); // the twin exists
  for (const [topic, from] of d.subscriptions ?? []) {
    if (from === null) void db.remove(twinKey('s', name, topic));
    else void db.put(twinKey('s', name, topic), from);
  }
  for (const [method, on] of d.exposed ?? []) {
    if (on) void db.put(twinKey('e', name, method), true);
    else void db.remove(twinKey('e', name, method));
  }
  for (const [id, on] of d.awaitingAck2 ?? []) {
    if (on) void db.put(twinKey('q', name, id.toString()), nextSeq());
    else void db.remove(twinKey('q', name, id.toString()));
  }
}

/** Remove every key of twin `name`. */
export function removeTwinRows(db: Database<unknown, Buffer>, name: string): void {
  for (const kind of ['m', 's', 'e', 'q'] as const) {
    const { start, end } = twinPrefix(kind, name);
    for (const key of [...db.getKeys({ start, end })]) void db.remove(key);
  }
}
