/**
 * Replay starting points for `subscribe$(pattern, { msgfrom })` (spec §4.7). On the wire
 * msg_from is a float in nanoseconds: 0 means Now, +Infinity LastReceived.
 */

/** No old messages: only what is published from now on. */
export const Now = 0;

/** Every logged message newer than the last one this component received. */
export const LastReceived = Number.POSITIVE_INFINITY;

/**
 * A period back from now, as msg_from nanoseconds.
 *
 * @example
 * ```ts
 * import { component, period } from 'rembus';
 * node.subscribe$('**\/telemetry', { msgfrom: period({ minutes: 5 }) });
 * ```
 * @param p the period: any of `days`, `hours`, `minutes`, `seconds`, `ms`
 * @returns the period in nanoseconds
 */
export function period(p: { days?: number; hours?: number; minutes?: number; seconds?: number; ms?: number }): number {
  const ms = (p.days ?? 0) * 86_400_000 + (p.hours ?? 0) * 3_600_000 + (p.minutes ?? 0) * 60_000
    + (p.seconds ?? 0) * 1000 + (p.ms ?? 0);
  return ms * 1e6;
}
