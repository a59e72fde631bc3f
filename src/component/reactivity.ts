/**
 * `reactive()` / `unreactive()` (Rembus.jl `reactive`/`unreactive`, rembus.python the same):
 * pause and resume live delivery at the broker. Paused, the broker sends this component no
 * published message; on resume a TS broker first replays, in order, what arrived meanwhile
 * (spec §4.7, §6 `reactive`), then live messages flow again. The state outlives a dropped link:
 * the `reactive` command ending each login says whether to stay paused.
 */
import { defer, EMPTY, ignoreElements, tap, type Observable } from 'rxjs';
import { CONFIG_TOPIC } from '../protocol/messages.js';
import { brokerTakesPubMeta, PUB_META_KEY, PUB_OPTS_KEY } from '../protocol/pub-meta.js';
import { REFUSALS_KEY } from '../protocol/refusals.js';
import type { ClientSession } from './connection.js';

/** One admin command on a session, erroring with the broker's refusal. */
export type AdminRequest = (session: ClientSession, topic: string, cmd: Record<string, unknown>) => Observable<unknown>;

export class Reactivity {
  private paused = false;

  /** `metadata`: ask for metadata on every delivery (component option), not only on retained values. */
  constructor(private readonly admin$: AdminRequest, private readonly current: () => ClientSession | null,
    private readonly metadata = false) {}

  /**
   * The command ending a login: `reactive` true (the login replay), or false while paused — a
   * TS broker keeps a twin's pause across its connections, so nothing slips through.
   * {@link REFUSALS_KEY}: a TS broker then reports a refused publish at once; {@link PUB_OPTS_KEY}:
   * it marks retained values and answers that it takes publish options; {@link PUB_META_KEY}
   * (`metadata: true`): metadata on every delivery. References ignore these keys.
   */
  login$(session: ClientSession): Observable<never> {
    return this.admin$(session, CONFIG_TOPIC, this.command(!this.paused)).pipe(
      tap((data) => { session.pubMeta = brokerTakesPubMeta(data); }),
      ignoreElements());
  }

  private command(status: boolean): Record<string, unknown> {
    const cmd: Record<string, unknown> = { cmd: 'reactive', status, [REFUSALS_KEY]: true, [PUB_OPTS_KEY]: true };
    if (this.metadata) cmd[PUB_META_KEY] = true;
    return cmd;
  }

  /** Pause (`on` false) or resume; completes once the broker has answered, or at once while down. */
  set$(on: boolean): Observable<never> {
    return defer(() => {
      this.paused = !on;
      const session = this.current();
      // While down the state waits for the next login, which sends it.
      if (session === null) return EMPTY;
      return this.admin$(session, CONFIG_TOPIC, this.command(on));
    }).pipe(ignoreElements());
  }
}
