/**
 * The `msg_from` of a subscription (spec §4.7, §6): 0 Now, +Infinity LastReceived, or a period
 * in nanoseconds. Anything else is refused before it is stored: a NaN or −∞ kept in a twin
 * would break its replays on every reconnect.
 */

/** Is `value` a msg_from a replay can use: finite and ≥ 0, or +Infinity? */
export function validMsgFrom(value: number): boolean {
  return value === Number.POSITIVE_INFINITY || (Number.isFinite(value) && value >= 0);
}

/**
 * The msg_from of a subscribe command: absent (or null) is Now (JL default); a number or an
 * integer (CBOR) as it is. Returns the reason text when it is not acceptable.
 */
export function msgFromOf(value: unknown): number | { refused: string } {
  if (value === undefined || value === null) return 0;
  const n = typeof value === 'bigint' ? Number(value) : value;
  if (typeof n === 'number' && validMsgFrom(n)) return n;
  const shown = typeof value === 'bigint' ? `${value}` : typeof value === 'number' ? String(value) : typeof value;
  return { refused: `invalid msg_from (${shown}): expected a period in ns >= 0, 0 (Now) or +Infinity (LastReceived)` };
}
