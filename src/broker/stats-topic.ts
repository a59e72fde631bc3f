/**
 * Broker stats as a topic: every `interval` ms the broker publishes one snapshot on
 * {@link STATS_TOPIC}, logged and routed like any publish — so it is replayable, and any
 * component (Python and Julia ones too) can watch it with a plain subscribe. Nothing is built
 * while nobody could see it: with no subscriber on the topic and `whenUnwatched: 'skip'`, the
 * tick costs one lookup.
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
