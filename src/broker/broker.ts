import { join } from 'node:path';
import { openDuckDbStore } from '../store/duckdb/duckdb-store.js';
import { validateTopic } from '../topic/validate.js';
import type { Link } from '../transport/link.js';
import type { Handler } from '../types.js';
import { BrokerImpl } from './broker-impl.js';
import type { Broker, BrokerOptions } from './types.js';
import { listenWebSocket, type WsListener } from './ws-server.js';

/** Default WebSocket port of Rembus (spec §1.2). */
export const DEFAULT_PORT = 8338;

/**
 * Start a broker. With a `port` (default 8338; `0` picks a free one) it listens for WebSocket
 * upgrades on any path; with `port: null` it serves only the links given to `handle`.
 *
 * @example
 * ```ts
 * import { broker } from 'rembus/broker';
 * const b = await broker({ port: 8338 });
 * b.expose('add', (a: number, c: number) => a + c);
 * // … later
 * await b.close();
 * ```
 * @param options see {@link BrokerOptions}
 * @returns the running broker
 * @throws the listen error (e.g. `EADDRINUSE`) when the port cannot be bound
 */
export async function broker(options: BrokerOptions = {}): Promise<Broker> {
  const name = options.name ?? 'broker';
  const store = options.store ?? (options.dataDir === undefined ? undefined
    : await openDuckDbStore({ path: join(options.dataDir, `${name}.duckdb`), brokerName: name, logger: options.logger }));
  const impl = new BrokerImpl({ ...options, store });
  try {
    await impl.start();
  } catch (err) {
    await impl.close();
    throw err;
  }
  const port = options.port === undefined ? DEFAULT_PORT : options.port;
  const host = options.host ?? '0.0.0.0';
  let listener: WsListener | undefined;
  if (port !== null) {
    try {
      listener = await listenWebSocket((link) => impl.handle(link), port, host, options.pingInterval);
    } catch (err) {
      await impl.close();
      throw err;
    }
  }
  let closing: Promise<void> | undefined;
  const dialHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const api: Broker = {
    name: impl.name,
    port: listener?.port,
    url: listener === undefined ? undefined : `ws://${dialHost}:${listener.port}`,
    messages$: impl.messages$.asObservable(),
    stats: () => impl.stats(),
    handle: (link: Link) => impl.handle(link),
    publish: (topic: string, ...args: unknown[]) => impl.publish(validateTopic(topic), args),
    expose: (method: string, handler: Handler) => impl.expose(method, handler),
    close: () => closing ??= (async () => {
      await listener?.close();
      await impl.close();
    })(),
    [Symbol.asyncDispose]: () => api.close(),
  };
  return api;
}
