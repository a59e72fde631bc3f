/** Errors of the shared twins of a cluster (twin-kv.ts, stream-replay.ts). */
import { RembusError } from '../errors.js';

/**
 * JetStream did not answer within the bound while replaying what a moved twin missed before
 * this broker joined: that part is skipped (logged), the rest of the replay and live delivery go on.
 */
export class SharedTwinUnavailableError extends RembusError {
  readonly code = 'SHARED_TWIN_UNAVAILABLE';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SharedTwinUnavailableError';
  }
}
