/**
 * A component's connection state, from the first dial to `close()`: the reconnecting loop over
 * its broker URLs (links.ts), the login of each link, `status$`, `ready()`, the session that is
 * up and the one past its login. What a session carries (frames, declarations, requests) is the
 * component's, reached through {@link LifecycleHooks}.
 */
import { BehaviorSubject, concat, defer, EMPTY, ignoreElements, type Observable, Subscription } from 'rxjs';
import type { Frame } from '../codec/wire.js';
import { AuthError, NameTakenError, TwinLimitError, UnsupportedSchemeError } from '../errors.js';
import { errorText } from '../internal/logger.js';
import { platform } from '#platform';
import type { Logger, Status } from '../types.js';
import type { ClientSession } from './connection.js';
import { links$ } from './links.js';
import type { ComponentOptions, Dialer } from './types.js';

/** What the lifecycle asks of the component. */
export interface LifecycleHooks {
  /** Handle one inbound frame of a session. */
  onFrame(session: ClientSession, frame: Frame): void;
  /** The IDENTITY exchange of a new link (EMPTY for an anonymous component). */
  identify$(session: ClientSession): Observable<unknown>;
  /** Once identified (the session is `current`): declare again what the component declared (spec §3.1). */
  restore$(session: ClientSession): Observable<unknown>;
  /** A session is up and logged in, before `status$` says so. */
  up(session: ClientSession): void;
  /** A session is gone: release what was bound to it. */
  down(session: ClientSession, error: unknown): void;
  /** The loop gave up (a fatal error, or out of retries): the component stops. */
  stop(error: unknown): void;
}

export class Lifecycle {
  private readonly statusSubject = new BehaviorSubject<Status>({ type: 'connecting', attempt: 1 });
  readonly status$: Observable<Status> = this.statusSubject.asObservable();
  /** The session that is up, null between links; completes on close. */
  readonly session$ = new BehaviorSubject<ClientSession | null>(null);
  /**
   * Holds the connection loop. Made before the loop starts: a synchronous dialer can fail fatally
   * inside `subscribe()`, stopping the component before `subscribe()` returns; the loop's
   * subscription, added afterwards to a holder already unsubscribed, is then released at once.
   */
  private readonly connection = new Subscription();
  private readonly readyPromise: Promise<void>;
  private settleReady!: (err?: unknown) => void;
  /** The session past its login, where declarations go (set before re-declaring, spec §3.1). */
  private currentSession: ClientSession | null = null;
  private wasUp = false;
  private stopped = false;

  constructor(private readonly log: Logger, private readonly hooks: LifecycleHooks) {
    this.readyPromise = new Promise<void>((resolve, reject) => {
      this.settleReady = (err) => (err === undefined ? resolve() : reject(err));
    });
    this.readyPromise.catch(() => undefined);
  }

  /**
   * Start the connection loop over `urls`. Called last in the component's constructor: a dialer
   * returning a synchronous Observable brings a session up (and calls every hook) at once.
   */
  start(urls: readonly string[], options: ComponentOptions): void {
    const connectTimeout = options.connectTimeout ?? 10_000;
    const ca = options.ca;
    const pingInterval = options.pingInterval ?? 30_000; // the reference clients' 30 s (spec §1)
    const dial: Dialer = options.dial ?? ((u) => platform.dial(u, ca === undefined ? { connectTimeout, pingInterval } : { connectTimeout, ca, pingInterval }));
    const { initialDelay = 250, maxDelay = 5_000, maxRetries = Infinity, jitter = 0.5, failback = 10_000 } = options.reconnect ?? {};
    this.connection.add(links$(urls, dial, {
      onFrame: (session, frame) => this.hooks.onFrame(session, frame),
      login$: (session) => this.login$(session),
      onDown: (session, error) => this.onDown(session, error),
    }, {
      initialDelay, maxDelay, maxRetries, jitter, failback,
      isFatal: (err) => this.isFatal(err),
      onRetry: (attempt, delayMs, error, next) => {
        this.log.info({ attempt, delayMs, url: next, err: errorText(error) }, 'reconnecting');
        this.statusSubject.next({ type: 'reconnecting', attempt, delayMs, error });
      },
    }).subscribe({ next: (session) => this.onUp(session), error: (err: unknown) => this.fail(err) }));
  }

  /** The session past its login, or null. */
  get current(): ClientSession | null {
    return this.currentSession;
  }

  ready(): Promise<void> {
    return this.readyPromise;
  }

  private isFatal(err: unknown): boolean {
    // A name still held by our own dropped link is retried once we have been up (spec §3.6).
    if (err instanceof TwinLimitError || err instanceof UnsupportedSchemeError) return true;
    return err instanceof AuthError || (err instanceof NameTakenError && !this.wasUp);
  }

  private login$(session: ClientSession): Observable<unknown> {
    const identified$ = defer(() => {
      this.currentSession = session;
      return EMPTY;
    });
    return concat(this.hooks.identify$(session), identified$, this.hooks.restore$(session)).pipe(ignoreElements());
  }

  private onUp(session: ClientSession): void {
    this.wasUp = true;
    this.hooks.up(session);
    this.statusSubject.next({ type: 'up', url: session.url });
    this.session$.next(session);
    this.settleReady();
  }

  private onDown(session: ClientSession, error: unknown): void {
    if (this.session$.value === session) this.session$.next(null);
    if (this.currentSession === session) this.currentSession = null;
    this.hooks.down(session, error);
    if (!this.stopped) this.statusSubject.next({ type: 'down', error });
  }

  private fail(err: unknown): void {
    this.log.error({ err: errorText(err) }, 'component stopped');
    this.statusSubject.next({ type: 'down', error: err });
    this.hooks.stop(err);
  }

  /** `close()`: status `closed` (the component then stops). */
  closing(): void {
    this.statusSubject.next({ type: 'closed' });
  }

  /** First step of stopping: no more links; `ready()` rejects with `reason` if it has not resolved. */
  stop(reason: unknown): void {
    this.stopped = true;
    this.connection.unsubscribe();
    this.settleReady(reason);
  }

  /** Last step of stopping: `session$` and `status$` complete. */
  complete(): void {
    this.session$.complete();
    this.statusSubject.complete();
  }
}
