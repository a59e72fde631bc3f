/**
 * The retained values a component's subscription has received (TS broker metadata,
 * src/protocol/pub-meta.ts), per topic, so that a later local subscriber of the same shared
 * stream first gets them too (`retainedMerge`), and so that the same retained value sent again
 * after a reconnect (the subscription is declared anew) is not delivered twice.
 */
import type { PubMeta } from '../protocol/pub-meta.js';
import type { Message } from '../types.js';

/** Topics remembered per subscription; past it the oldest goes. */
export const RETAINED_CACHE_CAPACITY = 1_000;

export class RetainedCache {
  private readonly values = new Map<string, Message>();

  /** The remembered retained values, oldest first. */
  snapshot(): Message[] {
    return [...this.values.values()];
  }

  /**
   * Note a delivered message; false when it is a retained value already delivered (the same
   * broker id), which is then not delivered again.
   */
  note(message: Message, meta: PubMeta): boolean {
    const topic = message.topic;
    if (meta.retained === true) {
      const known = this.values.get(topic);
      if (known !== undefined && known.id === message.id) return false;
      this.keep(topic, message);
    } else if (meta.retain === true) {
      // A live retained publish: the broker's retained value of the topic now (empty args: none).
      if (message.args.length === 0) this.values.delete(topic);
      else this.keep(topic, { ...message, retained: true });
    }
    return true;
  }

  private keep(topic: string, message: Message): void {
    this.values.delete(topic);
    if (this.values.size >= RETAINED_CACHE_CAPACITY) this.values.delete(this.values.keys().next().value!);
    this.values.set(topic, message);
  }
}
