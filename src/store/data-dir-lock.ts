/**
 * One broker per data directory and name. LMDB lets several processes open one file, so two
 * brokers started on the same `<dataDir>/<name>` would both append to its log and both own its
 * twins. `<dataDir>/<name>.lock` holds the owner's pid: a second broker is refused while that
 * process lives; a lock left by a killed broker (its pid gone) is taken over.
 */
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { RembusError } from '../errors.js';

/** Another live broker holds the data directory. */
export class DataDirLockedError extends RembusError {
  readonly code = 'DATA_DIR_LOCKED';
  constructor(readonly dataDir: string, readonly pid: number, readonly lockFile: string, options?: ErrorOptions) {
    super(`data directory ${dataDir} is locked by another broker (pid ${pid}, ${lockFile}); `
      + 'stop it, or remove the lock file if no broker runs there', options);
    this.name = 'DataDirLockedError';
  }
}

/**
 * Take the lock of broker `name` in `dataDir`; returns its release (idempotent).
 * @throws DataDirLockedError while another live process (or this one, for another broker) holds it
 */
export function lockDataDir(dataDir: string, name: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, `${name}.lock`);
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
      const owner = Number.parseInt(readIfThere(file), 10);
      if (Number.isInteger(owner) && owner > 0 && alive(owner)) throw new DataDirLockedError(dataDir, owner, file);
      unlinkSync(file); // a killed broker's lock: take it over
    }
  }
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    try {
      if (readIfThere(file) === String(process.pid)) unlinkSync(file);
    } catch { /* already gone */ }
  };
}

function readIfThere(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return '';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
