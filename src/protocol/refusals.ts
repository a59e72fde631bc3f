/**
 * Refused publishes, a TS extension (README "Security", spec §6.2 revised). Pure.
 *
 * The spec drops an unauthorized QoS1/2 publish without an ACK, so a publisher learns of it only
 * by timing out. A TS component asks to be told at once by adding {@link REFUSALS_KEY} to the
 * `reactive` admin command it sends after every login; both references read only the keys they
 * know in an admin map (spec §6), so the request is invisible to them. A TS broker then answers
 * a refused QoS1/2 publish of that connection with `[4, id, 10, "unauthorized: <topic>"]`: a
 * RESPONSE carrying the publish's own id. It is never sent to a peer that did not ask: a PY client
 * would take any frame with a pending publish id as its acknowledgement.
 *
 * A publish that does not fit the broker's contract for its topic (`broker({ contracts })`) is
 * refused the same way with `"invalid (<issues>): <topic>"` ({@link INVALID_REASON}); the
 * component raises `ContractRefusedError` for it instead of `UnauthorizedError`.
 */

/** Key of the `reactive` admin map by which a peer asks for refusal notices; value `true`. */
export const REFUSALS_KEY = 'ts_refusals';

/** Does this admin map ask for refusal notices? */
export function asksForRefusals(cmd: Record<string, unknown>): boolean {
  return cmd[REFUSALS_KEY] === true;
}

/** The reason prefix of a publish refused by a broker contract. */
export const INVALID_REASON = 'invalid';
