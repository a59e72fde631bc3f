/**
 * `reactive()` / `unreactive()` (Rembus.jl `reactive`/`unreactive`, rembus.python the same):
 * pause and resume live delivery at the broker. Paused, the broker sends this component no
 * published message; on resume a TS broker first replays, in order, what arrived meanwhile
 * (spec §4.7, §6 `reactive`), then live messages flow again. The state outlives a dropped link:
 * the `reactive` command ending each login says whether to stay paused.
 */
import { defer, EMPTY, ignoreElements, type Observable } from 'rxjs';
import { CONFIG_TOPIC } from '../protocol/messages.js';
import { REFUSALS_KEY } from '../protocol/refusals.js';
import type { ClientSession } from './connection.js';

/** One admin command on a session, erroring with the broker's refusal. */
export type AdminRequest = (session: ClientSession, topic: string, cmd: Record<string, unknown>) => Observable<unknown>;

export class Reactivity {
  private paused = false;

  constructor(private readonly admin$: AdminRequest, private readonly current: () => ClientSession | null) {}

  /**
   * The command ending a login: `reactive` true (the login replay), or false while paused — a
   * TS broker keeps a twin's pause across its connections, so nothing slips through.
   * {@link REFUSALS_KEY}: a TS broker then reports a refused publish at once; references ignore the key.
   */
  login$(session: ClientSession): Observable<never> {
    return this.admin$(session, CONFIG_TOPIC, { cmd: 'reactive', status: !this.paused, [REFUSALS_KEY]: true }).pipe(ignoreElements());
  }

  /** Pause (`on` false) or resume; completes once the broker has answered, or at once while down. */
  set$(on: boolean): Observable<never> {
    return defer(() => {
      this.paused = !on;
      const session = this.current();
      // While down the state waits for the next login, which sends it.
      if (session === null) return EMPTY;
      return this.admin$(session, CONFIG_TOPIC, { cmd: 'reactive', status: on, [REFUSALS_KEY]: true });
    }).pipe(ignoreElements());
  }
}
