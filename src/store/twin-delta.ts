/** Apply a {@link TwinDelta} to a twin record, in memory (the memory store; tests). */
import type { TwinDelta, TwinRecord } from './types.js';

/** An empty record for a twin first seen in a delta. */
export function emptyTwin(name: string): TwinRecord {
  return { name, subscriptions: new Map(), exposed: [], mark: 0n, awaitingAck2: [] };
}

/** The record after `delta`; `record` is not modified. */
export function applyTwinDelta(record: TwinRecord | undefined, delta: TwinDelta): TwinRecord {
  const base = record ?? emptyTwin(delta.name);
  const subscriptions = new Map(base.subscriptions);
  for (const [topic, from] of delta.subscriptions ?? []) {
    if (from === null) subscriptions.delete(topic);
    else subscriptions.set(topic, from);
  }
  const exposed = new Set(base.exposed);
  for (const [method, on] of delta.exposed ?? []) {
    if (on) exposed.add(method);
    else exposed.delete(method);
  }
  const awaiting = new Set(base.awaitingAck2);
  for (const [id, on] of delta.awaitingAck2 ?? []) {
    if (on) awaiting.add(id);
    else awaiting.delete(id);
  }
  return { name: base.name, subscriptions, exposed: [...exposed], mark: delta.mark ?? base.mark, awaitingAck2: [...awaiting] };
}
