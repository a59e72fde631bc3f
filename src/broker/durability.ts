/**
 * The broker's durable state: its Store, the message log committed to it (message-log.ts) with
 * its size bound (log-bound.ts), and the named twins' persistence (twin-persistence.ts). Opened
 * by the broker's start, closed last; a store that fails for good stops the broker (`failure`).
 */
import type { SchedulerLike } from 'rxjs';
import { errorText } from '../internal/logger.js';
import { StoreFailedError } from '../store/errors.js';
import { memoryStore } from '../store/memory-store.js';
import type { Store } from '../store/types.js';
import type { Logger } from '../types.js';
import { LogBound } from './log-bound.js';
import { MessageLog } from './message-log.js';
import { TwinPersistence } from './twin-persistence.js';
import type { BrokerOptions } from './types.js';

/** What {@link Durability} calls back into. */
export interface DurabilityHooks {
  /** The offline twins a log trim to `oldest` may have cut from messages they wait for (twin-registry.ts). */
  readonly behind: (oldest: bigint) => string[];
  /** The store is lost: nothing more is acknowledged; the broker closes (a supervisor restarts it). */
  readonly stop: () => void;
  readonly scheduler: SchedulerLike | undefined;
}

export class Durability {
  readonly store: Store;
  readonly twins: TwinPersistence;
  readonly logBound: LogBound;
  readonly messageLog: MessageLog;
  /** Why the broker stopped by itself, when it did. */
  failure: StoreFailedError | undefined;

  constructor(options: BrokerOptions, private readonly log: Logger, hooks: DurabilityHooks) {
    this.store = options.store ?? memoryStore(options.maxLogBytes === undefined ? {} : { maxBytes: options.maxLogBytes });
    this.twins = new TwinPersistence(this.store);
    this.logBound = new LogBound(this.store, options.maxLogBytes, log, hooks.behind);
    this.messageLog = new MessageLog(this.store, options.archiverInterval ?? 1_000, options.logCapacity ?? 1_000_000,
      log, { collect: () => this.twins.collect(), onFatal: (err) => this.failed(err, hooks.stop), scheduler: hooks.scheduler,
        committed: () => this.logBound.check(),
        ...(options.storeFailureTimeout === undefined ? {} : { failureTimeout: options.storeFailureTimeout }) });
  }

  /** Continue the log after what the store holds, and measure it against its bound. */
  async open(): Promise<void> {
    await this.messageLog.init();
    await this.logBound.start();
  }

  /** Drop logged messages older than `retention` ms; a failure is logged (the next pass retries). */
  prune(retention: number): void {
    void this.messageLog.prune(retention).catch((err: unknown) => this.log.warn({ err: errorText(err) }, 'log pruning failed'));
  }

  /** Commit what the log holds, then close the store (even when that commit fails). */
  async close(): Promise<void> {
    try {
      await this.messageLog.close();
    } finally {
      await this.store.close();
    }
  }

  private failed(err: unknown, stop: () => void): void {
    this.failure = new StoreFailedError(`durable store failed: ${errorText(err)}`, { cause: err });
    this.log.error({ err: errorText(err) }, 'durable store failed: broker stopping');
    stop();
  }
}
