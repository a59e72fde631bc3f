// Start a broker on ws://127.0.0.1:8338 (or $REMBUS_PORT; loopback: pass host to listen wider) with a broker-local method.
// Run: npx tsx examples/broker.ts
import { broker } from 'rembus/broker';

const port = Number(process.env['REMBUS_PORT'] ?? 8338);
const b = await broker({ port });
b.expose('echo', (...args: unknown[]) => args);
console.log(`broker listening on ${b.url}`);

const stop = (): void => void b.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
