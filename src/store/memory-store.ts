/**
 * A Store in memory: for tests and for brokers started without persistence. Bounded by the
 * broker's retention, not by itself.
 */
import type { LogQuery, Store, StoredMessage, TwinRecord } from './types.js';

class MemoryStore implements Store {
  private readonly log: StoredMessage[] = [];
  private readonly twins = new Map<string, TwinRecord>();

  async appendMessages(batch: readonly StoredMessage[]): Promise<void> {
    for (const m of batch) this.log.push(m);
  }

  async readMessages({ after, upTo, limit }: LogQuery): Promise<StoredMessage[]> {
    const out: StoredMessage[] = [];
    for (let i = this.firstAfter(after); i < this.log.length && out.length < limit; i++) {
      const m = this.log[i]!;
      if (m.recv > upTo) break;
      out.push(m);
    }
    return out;
  }

  /** Binary search: the index of the first message with recv > after. */
  private firstAfter(after: bigint): number {
    let lo = 0;
    let hi = this.log.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.log[mid]!.recv <= after) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  async lastRecv(): Promise<bigint> {
    return this.log.at(-1)?.recv ?? 0n;
  }

  async pruneMessages(before: bigint): Promise<number> {
    const n = this.firstAfter(before - 1n);
    this.log.splice(0, n);
    return n;
  }

  async saveTwin(twin: TwinRecord): Promise<void> {
    this.twins.set(twin.name, { ...twin, subscriptions: new Map(twin.subscriptions), exposed: [...twin.exposed],
      awaitingAck2: [...twin.awaitingAck2] });
  }

  async saveMarks(marks: ReadonlyMap<string, bigint>): Promise<void> {
    for (const [name, mark] of marks) {
      const twin = this.twins.get(name);
      this.twins.set(name, twin === undefined
        ? { name, subscriptions: new Map(), exposed: [], mark, awaitingAck2: [] }
        : { ...twin, mark });
    }
  }

  async loadTwins(): Promise<TwinRecord[]> {
    return [...this.twins.values()];
  }

  async deleteTwin(name: string): Promise<void> {
    this.twins.delete(name);
  }

  async close(): Promise<void> {
    /* nothing held */
  }
}

/**
 * A Store that keeps everything in memory (lost when the process ends).
 *
 * @example
 * ```ts
 * import { broker } from 'rembus/broker';
 * import { memoryStore } from 'rembus/broker';
 * const b = await broker({ port: 0, store: memoryStore() });
 * ```
 */
export function memoryStore(): Store {
  return new MemoryStore();
}
