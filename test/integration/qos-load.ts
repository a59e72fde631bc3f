/**
 * A QoS1/2 load for the kill tests (crash-exactly-once, test/cluster/fault): a publisher keeps
 * `window` publishes in flight, even numbers on `q2` (QoS2), odd ones on `q1` (QoS1), and
 * records what was acknowledged; `Tally` counts what a subscriber received, per number.
 */
import type { Component } from '../../src/index.js';

/** Counts per payload number, for one topic. */
export class Tally {
  readonly counts = new Map<number, number>();
  add(n: number): void { this.counts.set(n, (this.counts.get(n) ?? 0) + 1); }
  missing(acked: readonly number[]): number[] { return acked.filter((n) => !this.counts.has(n)); }
  duplicates(): number[] { return [...this.counts].filter(([, c]) => c > 1).map(([n]) => n); }
}

export interface QosLoad {
  /** The numbers acknowledged, per topic, in acknowledgement order. */
  readonly acked: { readonly q1: number[]; readonly q2: number[] };
  total(): number;
  inFlight(): number;
  /** Publishes that failed (the test wants none: they are re-sent until acknowledged). */
  failed(): number;
  /** Publish nothing more; what is in flight goes on. */
  stop(): void;
}

/** Start publishing at once; runs until `stop()`. */
export function qosLoad(pub: Component, window: number): QosLoad {
  const acked = { q1: [] as number[], q2: [] as number[] };
  let next = 0;
  let inFlight = 0;
  let pumping = true;
  let failed = 0;
  const pump = (): void => {
    while (pumping && inFlight < window) {
      const n = next++;
      const topic = n % 2 === 0 ? 'q2' : 'q1';
      inFlight++;
      pub.publishAsync(topic, [n], { qos: topic === 'q2' ? 2 : 1 }).then(
        () => acked[topic].push(n),
        () => failed++,
      ).finally(() => { inFlight--; pump(); });
    }
  };
  pump();
  return {
    acked,
    total: () => acked.q1.length + acked.q2.length,
    inFlight: () => inFlight,
    failed: () => failed,
    stop: () => { pumping = false; },
  };
}
