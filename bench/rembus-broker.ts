/**
 * Benchmark role: the rembus broker, exactly as an application starts it (`broker()` from the
 * public broker entry), on 127.0.0.1 and a free port.
 *
 * Usage (from run.ts): `tsx bench/rembus-broker.ts`
 */
import { broker } from '../src/broker/index.js';
import { die, onParent, tell } from './common.js';

try {
  const b = await broker({ port: 0, host: '127.0.0.1' });
  onParent({ exit: () => b.close() });
  tell({ type: 'ready', port: b.port! });
} catch (err) {
  die(err);
}
