/**
 * Benchmark role: an Aedes broker (in-memory persistence and emitter, the defaults) on plain
 * TCP, which is how Aedes is normally deployed; mqtt.js clients dial `mqtt://127.0.0.1:port`.
 *
 * Usage (from run.ts): `tsx bench/aedes-broker.ts`
 */
import { createServer } from 'node:net';
import { Aedes } from 'aedes';
import { die, onParent, tell } from './common.js';

try {
  const aedes = await Aedes.createBroker();
  const server = createServer(aedes.handle);
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    if (address === null || typeof address === 'string') die(new Error('no TCP address'));
    onParent({
      exit: () => new Promise<void>((resolve) => {
        server.close();
        aedes.close(() => resolve());
      }),
    });
    tell({ type: 'ready', port: address.port });
  });
} catch (err) {
  die(err);
}
