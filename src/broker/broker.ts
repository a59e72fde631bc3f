import { join } from 'node:path';
import type { Observable } from 'rxjs';
import { of } from '../internal/rx.js';
import { openSecurityStore } from '../security/file-store.js';
import { validateKeyName } from '../security/names.js';
import { validateTopic } from '../topic/validate.js';
import type { Link } from '../transport/link.js';
import type { Handler } from '../types.js';
import { silentLogger } from '../internal/logger.js';
import { BrokerImpl } from './broker-impl.js';
import { checkJoinKeys, openBridges, type Bridges } from './bridges.js';
import { importOptional } from '../internal/optional.js';
import { lockDataDir } from '../store/data-dir-lock.js';
import type { DataStage } from './data-stage.js';
import type { Broker, BrokerOptions } from './types.js';
import type { DuckDbHandle } from '../store/duckdb/database.js';
import type { Store } from '../store/types.js';
import { listenWebSocket, type WsListener } from './ws-server.js';
import { Observability } from '../http/index.js';
import { startStatsTopic } from './stats-topic.js';
import { memoryStore } from '../store/memory-store.js';
import type { TcpListener } from './tcp-server.js';
import { contractTables } from '../contracts/table.js';
import type { ClusterDataGate } from '../cluster/data-gate.js';

/**
 * The interface a broker listens on when no host is given: every one only when it refuses
 * unauthenticated components, else loopback (README "Security", like Mosquitto 2).
 */
export function defaultHost(auth: BrokerOptions['auth']): string {
  return auth === 'required' ? '0.0.0.0' : '127.0.0.1';
}

/** Default WebSocket port of Rembus (spec §1.2). */
export const DEFAULT_PORT = 8338;

/**
 * Start a broker. With a `port` (default 8338; `0` picks a free one) it listens for WebSocket
 * upgrades on any path — `wss://` when `tls` is given — on `host`, by default loopback unless
 * `auth: 'required'` ({@link defaultHost}); with `port: null` it serves only the links given to
 * `handle`. With `tcp: { port }` it also accepts `tcp://` components (`tls://` with `tls`,
 * spec §1.4; tcp-server.ts). Security (tenants, admins, private topics, component keys) comes from
 * `security`, else `<dataDir>/<name>/`, else an empty in-memory store (everything open).
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
 * @throws the listen error (e.g. `EADDRINUSE`) when the port cannot be bound; SecurityConfigError
 * naming a malformed `tenants.json`, `admins.json` or `topic_auth.json`; DataDirLockedError when
 * another live broker of that name runs on `dataDir`; InvalidNameError (`'INVALID_NAME'`) for a
 * `name` that cannot name a file in `dataDir` (`../x`, a leading `.`: see validateKeyName)
 */
export async function broker(options: BrokerOptions = {}): Promise<Broker> {
  const name = options.name ?? 'broker';
  // The name builds the data paths (`<dataDir>/<name>.lmdb`, `<dataDir>/<name>/`): none may leave dataDir.
  if (options.dataDir !== undefined) validateKeyName(name);
  // One broker per data directory and name (LMDB would let a second process write the same log).
  const release = options.dataDir === undefined ? undefined : lockDataDir(options.dataDir, name);
  try {
    const api = await start(options, name);
    void api.closed.then(release);
    return api;
  } catch (err) {
    release?.();
    throw err;
  }
}

async function start(options: BrokerOptions, name: string): Promise<Broker> {
  // A join key that cannot sign fails the start too, in a cluster as well (src/broker/bridges.ts).
  await checkJoinKeys(options.join);
  // Read before anything is opened: a malformed provisioning file fails the start, naming the file.
  const security = options.security ?? (options.dataDir === undefined ? undefined
    : await openSecurityStore(join(options.dataDir, name)));
  // LMDB and DuckDB are loaded only when something needs them: a broker in memory maps neither.
  // `auth: 'required'` (security) refuses anonymous HTTP as it refuses anonymous WebSocket logins.
  const requireAuth = options.auth === 'required';
  const observe = options.http === false ? undefined : new Observability({ requireAuth, ...options.http });
  const opened = options.store ?? (options.dataDir === undefined ? undefined
    : await (await import('../store/lmdb/lmdb-store.js')).openLmdbStore({
      path: join(options.dataDir, `${name}.lmdb`), fsync: options.fsync, fsyncInterval: options.fsyncInterval, logger: options.logger,
    }));
  const store = observe === undefined ? opened
    : observe.wrapStore(opened ?? memoryStore(options.maxLogBytes === undefined ? {} : { maxBytes: options.maxLogBytes }));
  if (options.deadLetter !== undefined) validateTopic(options.deadLetter);
  // In a cluster the component keys are shared through a KV bucket (src/cluster/security-kv.ts).
  const shared = options.cluster === undefined ? undefined : await (await import('../cluster/attach.js'))
    .shareSecurity(options.cluster, security, options.logger ?? silentLogger);
  const impl = new BrokerImpl({ ...options, store, security: shared?.store ?? security });
  let data: DataStage | undefined;
  let tables: DuckDbHandle | undefined;
  let bridges: Bridges | undefined;
  let cluster: { close(): Promise<void>; readonly leader$: Observable<boolean> } | undefined;
  let gate: ClusterDataGate | undefined;
  try {
    await impl.start();
    const contractTablesJson = contractTables(options.contracts ?? []);
    if (options.schema !== undefined || options.ducklake !== undefined || contractTablesJson.length > 0) {
      // In a cluster one broker (the leader) writes the tables; the others forward their RPCs to it.
      if (options.cluster !== undefined) gate = new (await import('../cluster/data-gate.js')).ClusterDataGate(impl, options.cluster.name ?? 'default');
      const { openDataStage } = await importOptional('@duckdb/node-api', 'schema tables', () => import('./data-stage.js'));
      // The tables live in DuckDB: the store's own file, else `<dataDir>/<name>.duckdb`.
      tables = await tablesDb(store, options.dataDir, name);
      data = await openDataStage({ schema: options.schema, ducklake: options.ducklake, contractTables: contractTablesJson,
        store: tables === undefined ? store : ({ db: tables } as unknown as Store), writes: options.schemaWrites,
        liveQueries: options.liveQueries, gate,
        dataPath: options.dataDir === undefined ? undefined : join(options.dataDir, name),
        logger: options.logger ?? silentLogger }, impl);
    }
    const bridging = { mqtt: options.mqtt, mqttMethods: options.mqttMethods, mqttTenant: options.mqttTenant, join: options.join, name,
      logger: options.logger ?? silentLogger };
    // In a cluster only the leader runs --mqtt/--join, so each message crosses once (src/cluster/leader-bridges.ts).
    const leaderOnly = options.cluster !== undefined && (options.mqtt !== undefined || (options.join?.length ?? 0) > 0);
    if (!leaderOnly) bridges = await openBridges(bridging, impl);
    // NATS is loaded only by a broker in a cluster (src/cluster/attach.ts).
    if (options.cluster !== undefined) cluster = await (await import('../cluster/attach.js'))
      .attachCluster(impl, options.cluster, options.requestTimeout ?? 10_000, gate, leaderOnly);
    if (leaderOnly) bridges = (await import('../cluster/leader-bridges.js'))
      .leaderBridges(() => openBridges(bridging, impl), cluster!.leader$, impl.log);
  } catch (err) {
    await bridges?.close();
    await cluster?.close();
    await data?.close();
    await tables?.close();
    await impl.close();
    await shared?.close();
    throw err;
  }
  const handle = (link: Link): void => impl.handle(observe?.wrapLink(link) ?? link);
  const served = observe?.attach({ name: impl.name, stats: () => ({ ...api.stats() }), twins: () => impl.twinList(),
    handle, requestTimeout: options.requestTimeout ?? 10_000, log: impl.log,
    auth: { hasKey: async (cid) => (await impl.auth.store.keyFor(cid)) !== undefined,
      isAdmin: (cid) => impl.auth.store.isAdmin(cid), tenantsIsolated: () => impl.auth.store.multiTenant } });
  const statsInterval = options.http === false ? 0 : options.http?.statsInterval ?? 1_000;
  const stopStats = served === undefined || statsInterval <= 0 ? undefined
    : startStatsTopic((topic, snapshot) => impl.publishLocal(topic, [snapshot]), served.snapshot, { interval: statsInterval });
  const port = options.port === undefined ? DEFAULT_PORT : options.port;
  const host = options.host ?? defaultHost(options.auth);
  let listener: WsListener | undefined;
  let tcp: TcpListener | undefined;
  if (port !== null || options.tcp !== undefined) {
    try {
      if (port !== null) listener = await listenWebSocket(handle, { port, host, pingInterval: options.pingInterval,
        maxPayload: options.maxPayload, tls: options.tls, http: served?.http });
      // node:net/tls framing for tcp:// components is loaded only by a broker that listens for them.
      if (options.tcp !== undefined) tcp = await (await import('./tcp-server.js')).listenTcp(handle,
        { port: options.tcp.port, host: options.tcp.host ?? host, maxPayload: options.maxPayload, tls: options.tls });
    } catch (err) {
      stopStats?.();
      observe?.close();
      await listener?.close();
      await cluster?.close();
      await bridges?.close();
      await impl.close();
      await shared?.close();
      throw err;
    }
  }
  let closing: Promise<void> | undefined;
  let closed!: () => void;
  const dialHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const scheme = options.tls === undefined ? 'ws' : 'wss';
  const api: Broker = {
    name: impl.name,
    port: listener?.port,
    url: listener === undefined ? undefined : `${scheme}://${dialHost}:${listener.port}`,
    tcpUrl: tcp === undefined ? undefined : `${tcp.scheme}://${dialHost}:${tcp.port}`,
    messages$: impl.messages$.asObservable(),
    stats: () => {
      const schema = data?.stage?.stats();
      return schema === undefined ? impl.stats() : { ...impl.stats(), schema: { ...schema, liveQueries: data?.live?.size ?? 0 } };
    },
    links$: bridges?.links$ ?? of([]),
    handle,
    publish: (topic: string, ...args: unknown[]) => impl.publish(validateTopic(topic), args),
    expose: (method: string, handler: Handler) => impl.expose(method, handler),
    close: () => closing ??= (async () => {
      try {
        stopStats?.();
        observe?.close();
        await listener?.close();
        await tcp?.close();
        await cluster?.close();
        await bridges?.close();
        await data?.close();
        await tables?.close();
        await impl.close();
        await shared?.close();
      } finally {
        closed();
      }
    })(),
    closed: new Promise<void>((resolve) => { closed = resolve; }),
    get failure() { return impl.failure; },
    [Symbol.asyncDispose]: () => api.close(),
  };
  impl.onShutdown = () => void api.close();
  return api;
}

/** A DuckDB file for the schema tables when the store has none (the LMDB store). */
async function tablesDb(store: Store | undefined, dataDir: string | undefined, name: string): Promise<DuckDbHandle | undefined> {
  if (dataDir === undefined || (store as { db?: unknown } | undefined)?.db !== undefined) return undefined;
  const { openDatabase } = await importOptional('@duckdb/node-api', 'schema tables', () => import('../store/duckdb/database.js'));
  return openDatabase(join(dataDir, `${name}.duckdb`));
}
