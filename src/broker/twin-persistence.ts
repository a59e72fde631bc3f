/**
 * Named twins in the Store (spec §3.6, §4.7). Nothing is written on its own: a twin's changed
 * keys (one subscription, one method, one QoS2 id, its mark) are collected into the next log
 * commit, so they are durable together with the log rows they refer to, and a declaration
 * costs one key, not the twin's whole record.
 */
import type { Store, TwinDelta } from '../store/types.js';
import { newChanges, Twin, type TwinChanges } from './twin.js';

/** The twin state taken for one commit; `restore` puts it back when the commit failed. */
export interface CollectedTwins {
  readonly deltas: TwinDelta[];
  restore(): void;
}

export class TwinPersistence {
  private readonly dirty = new Set<Twin>();

  constructor(private readonly store: Store) {}

  async load(): Promise<Twin[]> {
    const records = await this.store.loadTwins();
    return records.map((record) => {
      const twin = this.attach(new Twin(record.name, false));
      for (const [topic, msgFrom] of record.subscriptions) twin.subscriptions.set(topic, msgFrom);
      for (const method of record.exposed) twin.exposed.add(method);
      twin.mark = record.mark;
      for (const id of record.awaitingAck2) twin.awaitingAck2.add(id);
      return twin;
    });
  }

  /** Follow a named twin's changes from now on. */
  attach(twin: Twin): Twin {
    if (!twin.anonymous) twin.onChange = this.track;
    return twin;
  }

  /** A declaration changed `topic` of this twin (subscribe, unsubscribe, expose, unexpose, setup). */
  declared(twin: Twin, cmd: string, topic: string): void {
    if (twin.anonymous) return;
    if (cmd === 'subscribe' || cmd === 'unsubscribe') twin.changed.subscriptions.add(topic);
    else if (cmd === 'expose' || cmd === 'unexpose') twin.changed.exposed.add(topic);
    else if (cmd === 'setup') {
      // setup only adds: every current declaration is a superset of what changed.
      for (const t of twin.subscriptions.keys()) twin.changed.subscriptions.add(t);
      for (const m of twin.exposed) twin.changed.exposed.add(m);
    }
    this.track(twin);
  }

  /** Take every change since the last call, as the deltas of one commit. */
  collect(): CollectedTwins {
    if (this.dirty.size === 0) return NOTHING;
    const taken: [Twin, TwinChanges][] = [];
    const deltas: TwinDelta[] = [];
    for (const twin of this.dirty) {
      const c = twin.changed;
      twin.changed = newChanges();
      taken.push([twin, c]);
      deltas.push(delta(twin, c));
    }
    this.dirty.clear();
    return {
      deltas,
      restore: () => {
        for (const [twin, c] of taken) {
          const now = twin.changed;
          now.mark ||= c.mark;
          for (const t of c.subscriptions) now.subscriptions.add(t);
          for (const m of c.exposed) now.exposed.add(m);
          for (const id of c.ack2) now.ack2.add(id);
          this.dirty.add(twin);
        }
      },
    };
  }

  /**
   * Stop following a twin that is being dropped (twin expiry): its pending changes are
   * discarded, so the next commit cannot write keys back after `Store.deleteTwin`.
   */
  forget(twin: Twin): void {
    this.dirty.delete(twin);
    twin.onChange = undefined;
    twin.changed = newChanges();
  }

  private readonly track = (twin: Twin): void => {
    this.dirty.add(twin);
  };
}

const NOTHING: CollectedTwins = { deltas: [], restore: () => undefined };

/** The keys that changed, with their values now (absent = removed). */
function delta(twin: Twin, c: TwinChanges): TwinDelta {
  return {
    name: twin.name,
    ...(c.mark ? { mark: twin.mark } : {}),
    ...(c.subscriptions.size === 0 ? {} : {
      subscriptions: new Map([...c.subscriptions].map((t) => [t, twin.subscriptions.get(t) ?? null])),
    }),
    ...(c.exposed.size === 0 ? {} : { exposed: new Map([...c.exposed].map((m) => [m, twin.exposed.has(m)])) }),
    ...(c.ack2.size === 0 ? {} : { awaitingAck2: new Map([...c.ack2].map((id) => [id, twin.awaitingAck2.has(id)])) }),
  };
}
