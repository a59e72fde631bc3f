/**
 * Broker stats as a topic: every `interval` ms the broker publishes one snapshot on
 * {@link STATS_TOPIC}. It is logged, so it is replayable, and any component (Python and Julia
 * ones too) can watch it with a plain subscribe; like MQTT's `$SYS` it reaches subscribers of
 * the exact topic only (not `**`) and is not federated: each broker's stats stay its own.
 */

/** The reserved topic of the stats snapshots. */
export const STATS_TOPIC = '__broker__/stats';

/** Options of {@link startStatsTopic}. */
export interface StatsTopicOptions {
  /** Period, ms. Default 1_000. */
  interval?: number;
  /** Is someone subscribed? When false the snapshot is not built. Default: always publish. */
  watched?: () => boolean;
}

/**
 * Publish `snapshot()` on {@link STATS_TOPIC} every `interval` ms.
 * @returns the teardown (idempotent) that stops the timer
 */
export function startStatsTopic(publish: (topic: string, snapshot: unknown) => void, snapshot: () => unknown,
  { interval = 1_000, watched = () => true }: StatsTopicOptions = {}): () => void {
  const timer = setInterval(() => {
    if (watched()) publish(STATS_TOPIC, snapshot());
  }, interval);
  timer.unref();
  return () => clearInterval(timer);
}
