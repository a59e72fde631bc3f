/**
 * Named twins in the Store: declarations are saved when they change (before the admin reply),
 * marks and QoS2 sets with every log flush (spec §3.6, §4.7).
 */
import type { Store, TwinRecord } from '../store/types.js';
import type { Logger } from '../types.js';
import { Twin } from './twin.js';

export class TwinPersistence {
  constructor(
    private readonly store: Store,
    private readonly twins: () => Iterable<Twin>,
    private readonly log: Logger,
  ) {}

  async load(): Promise<Twin[]> {
    const records = await this.store.loadTwins();
    return records.map((record) => {
      const twin = new Twin(record.name, false);
      for (const [topic, msgFrom] of record.subscriptions) twin.subscriptions.set(topic, msgFrom);
      for (const method of record.exposed) twin.exposed.add(method);
      twin.mark = record.mark;
      for (const id of record.awaitingAck2) twin.awaitingAck2.add(id);
      return twin;
    });
  }

  save(twin: Twin): Promise<void> {
    twin.ack2Dirty = false;
    return this.store.saveTwin(record(twin));
  }

  /** Persist what changed since the last flush: QoS2 sets (whole twin) and marks. */
  async flushDirty(): Promise<void> {
    const marks = new Map<string, bigint>();
    for (const twin of this.twins()) {
      if (twin.ack2Dirty) await this.save(twin);
      if (twin.markDirty) {
        twin.markDirty = false;
        marks.set(twin.name, twin.mark);
      }
    }
    if (marks.size > 0) await this.store.saveMarks(marks);
    this.log.debug({ marks: marks.size }, 'twin state flushed');
  }
}

function record(twin: Twin): TwinRecord {
  return {
    name: twin.name,
    subscriptions: new Map(twin.subscriptions),
    exposed: [...twin.exposed],
    mark: twin.mark,
    awaitingAck2: [...twin.awaitingAck2],
  };
}
