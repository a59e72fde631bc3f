/**
 * Echo suppression for an MQTT 3.1.1 link, which has no No Local (MQTT 5 §3.8.3.1): what the
 * bridge published comes back on its own `#` subscription. Each publish is remembered as
 * (topic, payload) for a while; the first delivery matching it is the echo and is dropped.
 * Pure: time comes from the `now` given (an RxJS scheduler's `now` in the bridge).
 *
 * A foreign publish identical to one of ours that arrives before our echo is dropped instead of
 * the echo, which then passes: the counts stay right, only which copy passes differs.
 */
import { createHash } from 'node:crypto';

interface Entry { count: number; expires: number }

export class EchoFilter {
  private readonly entries = new Map<string, Entry>();
  /** Remembered publishes in order, for expiry and capacity: (key, expiry). */
  private readonly order: [string, number][] = [];

  constructor(private readonly ttl: number, private readonly capacity: number, private readonly now: () => number) {}

  /** How many publishes are remembered. */
  get size(): number {
    return this.order.length;
  }

  /** Remember one publish of ours. */
  add(topic: string, payload: string | Uint8Array): void {
    const now = this.now();
    this.prune(now);
    if (this.capacity <= 0) return;
    while (this.order.length >= this.capacity) this.forget(this.order.shift()![0]);
    const key = keyOf(topic, payload);
    const entry = this.entries.get(key);
    if (entry === undefined) this.entries.set(key, { count: 1, expires: now + this.ttl });
    else {
      entry.count++;
      entry.expires = now + this.ttl;
    }
    this.order.push([key, now + this.ttl]);
  }

  /** Is this delivery the echo of one of our publishes? If so it is consumed. */
  take(topic: string, payload: string | Uint8Array): boolean {
    this.prune(this.now());
    if (this.entries.size === 0) return false;
    const key = keyOf(topic, payload);
    const entry = this.entries.get(key);
    if (entry === undefined) return false;
    this.forget(key);
    const at = this.order.findIndex(([k]) => k === key);
    if (at >= 0) this.order.splice(at, 1);
    return true;
  }

  private prune(now: number): void {
    while (this.order.length > 0 && this.order[0]![1] <= now) this.forget(this.order.shift()![0]);
  }

  private forget(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    if (--entry.count <= 0) this.entries.delete(key);
  }
}

/** A fixed-size key: payloads may be large, and only equality matters. */
function keyOf(topic: string, payload: string | Uint8Array): string {
  return createHash('sha1').update(topic).update('\u0000').update(payload).digest('base64');
}
