/**
 * V8 heap settings for a process that only runs a broker (`rembus broker`), applied once it
 * listens (issue 20, W7). The library never sets them: `broker()` embedded in an application
 * leaves that process's heap to the application.
 *
 * - `--semi-space-growth-factor=1`: V8 doubles the young generation's semispaces whenever the
 *   bytes surviving scavenges since the last growth exceed their size; under W2's bursts on a
 *   quiet box that takes them from the size module loading left (4 MiB) to 16 MiB, pages that
 *   stay committed. The factor is read at each growth, so from here on the young generation
 *   keeps its start-up size. (A cap from the start, `--max-semi-space-size`, cannot be set
 *   from a running process, and a 1 MiB young generation promotes the payloads in flight.)
 * - `--optimize-for-size`: read at each old-generation limit computation: smaller steps between
 *   mark-compacts, so promoted garbage is collected before the old space has grown much.
 *
 * A flag the user gave Node (`node --semi-space-growth-factor=2 …`) wins. (Node refuses both
 * flags in `NODE_OPTIONS`; the check below reads it too, for a Node that would accept them.)
 *
 * Flags that only take effect at process start (`--v8-pool-size`, `--single-threaded-gc`,
 * `--max-semi-space-size`) cannot be chosen here, and `--single-threaded-gc` set in a running
 * process aborts V8 at its next mark-compact (measured, issue 20): a host that runs only a broker
 * gives them to Node itself (README, CLI).
 */
import { setFlagsFromString } from 'node:v8';

const SETTINGS: readonly (readonly [name: string, flag: string])[] = [
  ['semi-space-growth-factor', '--semi-space-growth-factor=1'],
  ['optimize-for-size', '--optimize-for-size'],
];

/** Keep the young generation at its start-up size and the old generation's steps small. */
export function settleBrokerHeap(given: string = `${process.execArgv.join(' ')} ${process.env['NODE_OPTIONS'] ?? ''}`): void {
  // V8 accepts both spellings of a flag: semi_space_growth_factor and semi-space-growth-factor.
  const user = given.replaceAll('_', '-');
  for (const [name, flag] of SETTINGS) if (!user.includes(name)) setFlagsFromString(flag);
}
