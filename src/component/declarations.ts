/**
 * What a component declares at the broker (spec §3.1, §6): subscriptions and exposed methods,
 * sent as admin commands, sent again after every login, and withdrawals that are repeated
 * until the broker answers them — it keeps a named component's declarations across a dropped
 * link (spec §3.6), so what is withdrawn while down, or lost with the link, is withdrawn
 * again after the next login.
 */
import { catchError, defer, forkJoin, map, of, tap, type Observable } from 'rxjs';
import { newMsgId } from '../codec/msgid.js';
import { ConnectionClosedError, MethodNotFoundError, RpcError } from '../errors.js';
import { errorText } from '../internal/logger.js';
import type { Msg, MsgId, ResponseMsg } from '../protocol/messages.js';
import { shareOf } from '../protocol/share.js';
import { PUB_OPTS_KEY } from '../protocol/pub-meta.js';
import type { Logger } from '../types.js';
import type { ClientSession } from './connection.js';
import { rpcResult } from './requests.js';

/** One request on a session, answered or failed with RpcTimeoutError / ConnectionClosedError. */
export type SessionRequest = (session: ClientSession, msg: Msg & { id: MsgId }, what: string) => Observable<ResponseMsg>;

type Withdrawal = 'unsubscribe' | 'unexpose';
/** The withdrawal a declaration cancels. */
const UNDO: Record<string, Withdrawal | undefined> = { subscribe: 'unsubscribe', expose: 'unexpose' };

/**
 * The subscribe command for `msgFrom`. One that replays (msg_from not Now) asks for its replay
 * at once (`replay: true`, a TS extension the references' brokers ignore, spec §4.7): a TS
 * broker then replays it whenever it is declared, after its RESPONSE.
 */
export function subscribeCmd(msgFrom: number): Record<string, unknown> {
  // PUB_OPTS_KEY: a TS broker marks this connection's retained values from this very subscription
  // on (a re-declaration comes before the login's `reactive`); references ignore it (pub-meta.ts).
  return msgFrom === 0 ? { cmd: 'subscribe', msg_from: msgFrom, [PUB_OPTS_KEY]: true }
    : { cmd: 'subscribe', msg_from: msgFrom, replay: true, [PUB_OPTS_KEY]: true };
}

export class Declarations {
  /**
   * Withdrawals not answered yet, by topic, each with the number of its latest request: an answer
   * clears only the request it answers, never a later withdrawal of the same topic that may be
   * lost with the link (off, on, off in one turn: the first answer must not clear the second).
   */
  private readonly withdrawals: Record<Withdrawal, Map<string, number>> = { unsubscribe: new Map(), unexpose: new Map() };
  private withdrawalSeq = 0;

  constructor(
    private readonly request$: SessionRequest,
    /** The session past its login, where declarations go; null while there is none. */
    private readonly current: () => ClientSession | null,
    private readonly log: Logger,
    /** A subscribe was answered (accepted or refused): its replay, if any, follows. */
    private readonly answered: (topic: string) => void = () => undefined,
  ) {}

  /** One admin command on `session`; its result, or the broker's refusal as an error. */
  admin$(session: ClientSession, topic: string, cmd: Record<string, unknown>): Observable<unknown> {
    const what = `${String(cmd['cmd'])} ${topic}`;
    // A group subscription is kept as `$share/<group>/<pattern>` and declared with the TS `group` key.
    const share = shareOf(topic, {});
    const wire = share === undefined ? { topic, cmd } : { topic: share.pattern, cmd: { ...cmd, group: share.group } };
    return this.request$(session, { type: 'admin', id: newMsgId(), ...wire }, what).pipe(
      // Deliveries start on the answer, and also when none comes (timeout) or it is a refusal: a
      // subscription left waiting would ACK and drop every message the broker then sends it.
      tap({ next: () => this.subscribed(topic, cmd), error: () => this.subscribed(topic, cmd) }),
      map((resp) => rpcResult(what, resp)));
  }

  private subscribed(topic: string, cmd: Record<string, unknown>): void {
    if (cmd['cmd'] === 'subscribe') this.answered(topic);
  }

  /** Declare now if up (else at the next login); a refusal is logged and given to `onRefused`. */
  declare(topic: string, cmd: Record<string, unknown>, onRefused?: (err: unknown) => void): void {
    const undo = UNDO[String(cmd['cmd'])];
    if (undo !== undefined) this.withdrawals[undo].delete(topic);
    const session = this.current();
    if (session === null) return;
    this.admin$(session, topic, cmd).subscribe({
      error: (err: unknown) => {
        // A lost link is reported on status$; the declaration is repeated after the next login.
        const lost = err instanceof ConnectionClosedError;
        this.log[lost ? 'debug' : 'warn']({ topic, cmd: cmd['cmd'], err: errorText(err) }, 'admin command failed');
        // Only a refusal ends the stream; a link lost (or the component closed) mid-request is not one.
        if (!lost) onRefused?.(err);
      },
    });
  }

  /** Withdraw a declaration now if up, and after every login until the broker answers. */
  withdraw(topic: string, cmd: Withdrawal): void {
    this.withdrawals[cmd].set(topic, ++this.withdrawalSeq);
    const session = this.current();
    if (session !== null) this.withdrawal$(session, topic, cmd).subscribe();
  }

  /**
   * After a login: declare `subscriptions` (topic → msg_from) and `methods` again, and repeat
   * the withdrawals still unanswered. A refused re-declaration is logged, not fatal.
   */
  redeclare$(session: ClientSession, subscriptions: Iterable<[string, number]>, methods: Iterable<string>): Observable<unknown> {
    return defer(() => {
      const requests = [
        ...[...subscriptions].map(([topic, msgFrom]) => this.admin$(session, topic, subscribeCmd(msgFrom))),
        ...[...methods].map((m) => this.admin$(session, m, { cmd: 'expose' })),
      ].map((req) => req.pipe(catchError((err: unknown) => {
        this.log.warn({ err: errorText(err) }, 're-declaration failed');
        return of(null);
      }))).concat((['unsubscribe', 'unexpose'] as const).flatMap((cmd) =>
        [...this.withdrawals[cmd].keys()].map((topic) => this.withdrawal$(session, topic, cmd))));
      return requests.length === 0 ? of([]) : forkJoin(requests);
    });
  }

  private withdrawal$(session: ClientSession, topic: string, cmd: Withdrawal): Observable<null> {
    const seq = this.withdrawals[cmd].get(topic);
    return this.admin$(session, topic, { cmd }).pipe(
      map(() => true),
      catchError((err: unknown) => {
        this.log[err instanceof ConnectionClosedError ? 'debug' : 'warn']({ topic, cmd, err: errorText(err) }, 'admin command failed');
        // A refusal is an answer; a lost link or a timeout is not.
        return of(err instanceof RpcError || err instanceof MethodNotFoundError);
      }),
      map((answered) => {
        if (answered && this.withdrawals[cmd].get(topic) === seq) this.withdrawals[cmd].delete(topic);
        return null;
      }),
    );
  }
}
