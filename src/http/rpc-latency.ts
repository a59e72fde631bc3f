/**
 * RPC latency per method as fixed histogram buckets (plain arrays): observed once per answered
 * call, read by the Prometheus registry and the stats topic. Method names are bounded: past
 * {@link MAX_METHODS} distinct ones, new methods are counted under `"__other__"`.
 */

/** Upper bounds of the latency buckets, seconds (the last, +Inf, is implicit). */
export const LATENCY_BUCKETS: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];
/** Distinct method names tracked; a broker must not grow with names a client makes up. */
export const MAX_METHODS = 1_000;
const OTHER = '__other__';

/** One method's figures. `counts[i]` is the calls in bucket i (not cumulative); the last is +Inf. */
export interface MethodLatency {
  calls: number;
  errors: number;
  sum: number;
  readonly counts: number[];
}

export class RpcLatency {
  readonly methods = new Map<string, MethodLatency>();

  observe(method: string, seconds: number, failed: boolean): void {
    let m = this.methods.get(method);
    if (m === undefined) {
      const key = this.methods.size >= MAX_METHODS ? OTHER : method;
      m = this.methods.get(key);
      if (m === undefined) {
        m = { calls: 0, errors: 0, sum: 0, counts: new Array<number>(LATENCY_BUCKETS.length + 1).fill(0) };
        this.methods.set(key, m);
      }
    }
    m.calls++;
    if (failed) m.errors++;
    m.sum += seconds;
    let i = 0;
    while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]!) i++;
    m.counts[i]!++;
  }
}

/**
 * The q-quantile (0..1) of a bucket histogram, interpolated linearly inside its bucket, seconds;
 * 0 without observations. Past the last finite bound, that bound is the answer.
 */
export function quantile(counts: readonly number[], q: number): number {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (seen + c >= rank && c > 0) {
      if (i >= LATENCY_BUCKETS.length) return LATENCY_BUCKETS[LATENCY_BUCKETS.length - 1]!;
      const lo = i === 0 ? 0 : LATENCY_BUCKETS[i - 1]!;
      const hi = LATENCY_BUCKETS[i]!;
      return lo + (hi - lo) * ((rank - seen) / c);
    }
    seen += c;
  }
  return LATENCY_BUCKETS[LATENCY_BUCKETS.length - 1]!;
}
