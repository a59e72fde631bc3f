import type { Logger } from '../types.js';

const noop = (): void => undefined;

/** The default logger: says nothing (the library never writes to the console). */
export const silentLogger: Logger = {
  debug: noop, info: noop, warn: noop, error: noop,
  child: () => silentLogger,
};

/** The text of an error or any thrown value, for logs and wire replies. */
export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return typeof err === 'string' ? err : String(err);
}
