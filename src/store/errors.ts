/** Errors of the broker's durable store. */
import { RembusError } from '../errors.js';

/** The engine of the durable store is not installed (`npm install lmdb`). */
export class StoreUnavailableError extends RembusError {
  readonly code = 'STORE_UNAVAILABLE';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

/**
 * The durable store failed and cannot be trusted any more (a disk error that did not clear
 * within the broker's `storeFailureTimeout`, or an engine that invalidated itself). The broker
 * stops acknowledging, closes, and its `closed` promise carries this error; the CLI exits 1.
 */
export class StoreFailedError extends RembusError {
  readonly code = 'STORE_FAILED';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StoreFailedError';
  }
}

/**
 * One write to the durable store failed (a full disk, an I/O error): nothing of it was stored
 * and nothing it carried is acknowledged. The broker retries it with backoff; `cause` is the
 * engine's error.
 */
export class StoreWriteError extends RembusError {
  readonly code = 'STORE_WRITE_FAILED';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StoreWriteError';
  }
}
