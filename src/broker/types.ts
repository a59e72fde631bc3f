import type { TopicContract } from '../contracts/topic.js';
import type { IngestStats } from '../contracts/ingest.js';
import type { ClusterOptions } from '../cluster/types.js';
import type { RetainedLimits } from './retained.js';
import type { Observable, SchedulerLike } from 'rxjs';
import type { LinkState } from '../bridge/link-state.js';
import type { BrokerTarget } from '../bridge/credentials.js';
import type { SecurityStore } from '../security/types.js';
import type { Store } from '../store/types.js';
import type { FlowControlOptions } from './flow-control.js';
import type { RpcPolicy } from './rpc-policy.js';
import type { SchemaStageContext } from '../schema/types.js';

/** The write options of the schema stage that a broker passes on (see `BrokerOptions.schemaWrites`). */
export type SchemaWriteOptions = Pick<SchemaStageContext, 'batchSize' | 'flushInterval' | 'maxPendingBytes' | 'overflow'> & {
  /**
   * DuckDB's worker threads for the tables' database (`SET threads`), a positive integer.
   * Default 1: see README "Durable at wire speed".
   */
  readonly threads?: number;
};
import type { Link } from '../transport/link.js';
import type { HttpOptions } from '../http/index.js';
import type { Handler, Logger } from '../types.js';

/** Options of {@link broker}. */
export interface BrokerOptions {
  /** WebSocket port; `0` picks a free one; `null` opens no listener (use `handle`). Default 8338. */
  port?: number | null;
  /**
   * Interface to listen on. Default: every interface (`'0.0.0.0'`) with `auth: 'required'`,
   * else loopback (`'127.0.0.1'`) — a broker that serves unauthenticated components is reachable
   * from other hosts only when asked (as Mosquitto 2 does).
   */
  host?: string;
  /** Broker name, answered by the `rid` RPC and used as a direct-RPC target. Default `'broker'`. */
  name?: string;
  /** How long a routed RPC waits for its exposer's answer before the mapping is forgotten, ms. Default 10_000. */
  requestTimeout?: number;
  /**
   * Which exposer serves a call when several expose the method (Rembus.jl's names): `first_up`,
   * `round_robin` (default) or `less_busy` (fewest calls in flight), or
   * `{ default, methods: { name: policy } }` to choose per method. See src/broker/rpc-policy.ts.
   */
  rpcPolicy?: RpcPolicy;
  /**
   * Also accept components over raw TCP (spec §1.4 framing) on `port` (`0` = any free one;
   * Rembus.jl's conventional 8337), on `host` (default: the WebSocket one); `tls://` when `tls`
   * is given, as Rembus.jl's `--secure` does. See src/broker/tcp-server.ts.
   */
  tcp?: { port: number; host?: string };
  /**
   * Bounds of the retained values (TS `publish$(…, { retain: true })`): topics and bytes of
   * topics and args. Past either, a retained publish is delivered but not retained (the topic
   * keeps its previous value). Default `{ maxCount: 10_000, maxBytes: 16 MiB }`.
   */
  retained?: RetainedLimits;
  /**
   * Tell subscribers that negotiated metadata (TS components) the publisher's name. Never an
   * anonymous publisher's, never across tenants. Default true.
   */
  publisherNames?: boolean;
  /** Deliver live publishes only to twins that sent `reactive` (JL behaviour). Default false (PY, spec §4.4). */
  requireReactive?: boolean;
  /** WebSocket keep-alive: ping period, ms; a socket silent for a whole period is closed. 0 disables. Default 30_000. */
  pingInterval?: number;
  /** pino-shaped logger. Default silent. */
  logger?: Logger;
  /**
   * Typed contracts (README "Typed contracts"): a publish whose topic fits a contract's pattern
   * must fit its schema, else a QoS1/2 one is refused (a TS component gets ContractRefusedError)
   * and a QoS0 one dropped, both counted in `stats().contracts`. A contract with a `table` is
   * stored like a schema table (spec §8) with its `query_<t>` RPCs. Default none.
   */
  contracts?: readonly TopicContract[];
  /**
   * With `contracts`: a topic on which the broker republishes each publish a contract refused or
   * dropped, as `{ topic, reason, args }` (a dead letter, logged and routed like any publish).
   * Default none.
   */
  deadLetter?: string;
  /**
   * Durable state: the message log, twins' declarations, marks and QoS2 sets. Default: an LMDB
   * file `<dataDir>/<name>.lmdb` (package `lmdb`) when `dataDir` is given, otherwise in memory.
   */
  store?: Store;
  /**
   * What a QoS1/2 ACK (and a confirmed declaration) means with the default durable store
   * (README "Durability"): `'off'` (default) the message is written to the OS before the ACK
   * leaves, so it survives the broker process dying; `'interval'` and the file is synced every
   * `fsyncInterval` ms; `'always'` the ACK waits until it is synced to disk (group commit),
   * so it survives power loss.
   */
  fsync?: 'off' | 'interval' | 'always';
  /** Sync period of `fsync: 'interval'`, ms. Default 1_000. */
  fsyncInterval?: number;
  /**
   * How long the store may keep failing (full disk, I/O error) before the broker gives up and
   * closes, with `failure` set (the CLI exits 1). Until then nothing is acknowledged and each
   * commit is retried; once a commit succeeds the broker carries on. Default 30_000 ms.
   */
  storeFailureTimeout?: number;
  /**
   * Data at rest (spec §8): a schema file path or the schema object mapping topic patterns to
   * DuckDB tables, with `query_<t>`, `delete_<t>`, `upsert_<t>` RPCs. Default none.
   */
  schema?: string | object;
  /**
   * How the schema stage batches and bounds its writes: `batchSize` rows (20,000) or
   * `flushInterval` ms (200) per batch; DuckDB's `threads` (1); at most `maxPendingBytes` (128 MiB, estimated) of rows
   * waiting for DuckDB, past which `overflow` (`'dropOldest'` | `'dropNewest'`, default
   * `'dropOldest'`) drops rows, every one counted in `stats().schema.dropped`.
   */
  schemaWrites?: SchemaWriteOptions;
  /**
   * Bounds of live queries (`live_<t>`, README "Live queries"): `maxPerConnection` (32) queries
   * at once per connection, `maxPending` (100,000) rows held per query while its snapshot is sent.
   */
  liveQueries?: { readonly maxPerConnection?: number; readonly maxPending?: number };
  /**
   * A DuckLake catalog URL for the schema tables. Start-up fails with DuckLakeUnavailableError
   * when the ducklake extension cannot be loaded (it is downloaded on first use). Default none:
   * a plain DuckDB file.
   */
  ducklake?: string;
  /** Bridge with an MQTT broker (spec §9): publishes flow both ways, topics 1:1. Default none. */
  mqtt?: string;
  /** Methods served on the `mqtt` side that this broker's components may call (src/bridge/mqtt-rpc.ts). Default none. */
  mqttMethods?: readonly string[];
  /**
   * With isolated tenants, the tenant whose data and methods the `mqtt` bridge carries (MQTT
   * proves no Rembus name): what it brings in is that tenant's, only that tenant's publishes and
   * the broker's own go out, MQTT callers reach that tenant's methods and only its components
   * the `mqttMethods` (src/broker/mqtt-host.ts). Default `'.'`, the tenant of names without a dot.
   */
  mqttTenant?: string;
  /**
   * Join other Rembus brokers: publishes and RPCs cross in both directions. A URL, or
   * `{ url: 'ws://host:port/NAME', key }` to log in as NAME with its key where the other broker
   * requires authentication (a bad key fails the start with InvalidKeyError). Default none.
   */
  join?: (string | BrokerTarget)[];
  /** Form one logical broker with the other brokers of a NATS cluster (README "Cluster"). Default none. */
  cluster?: ClusterOptions;
  /** Directory of the broker's durable state (the CLI defaults it to `~/.config/rembus`). Default none. */
  dataDir?: string;
  /**
   * Virtual time: every broker timer (QoS re-sends, replay holds, RPC and login deadlines, twin
   * expiry, log flushes) and every receive time follows this scheduler, e.g. a `TestScheduler`
   * (rembus/testing `virtualNetwork`). Default: the real clock (Node timers, `Date.now()`).
   */
  scheduler?: SchedulerLike;
  /** How often the message log is flushed, ms (QoS1/2 publishes flush at once). Default 1_000. */
  archiverInterval?: number;
  /** Unflushed log entries kept in memory before the oldest QoS0 entry is dropped. Default 1_000_000. */
  logCapacity?: number;
  /** How long logged messages are kept for replay, ms (checked every minute). Default 86_400_000 (one day). */
  retention?: number;
  /**
   * Most bytes the message log may take in its store (LMDB: the log's pages in the file; the
   * memory store: its `maxBytes`). Past it the oldest messages are dropped, whole commits at a
   * time, down to 15/16 of it: counted in `stats().logDropped` and logged (README
   * "Durability"); a replay from before the oldest kept starts there. The bound cannot cut
   * what is not committed yet: an acknowledged publish is always stored first. Default none
   * (the LMDB log grows until `retention` prunes it, or the disk is full).
   */
  maxLogBytes?: number;
  /** Wait for a subscriber's ACK this long before re-sending a QoS1/2 message, ms. Default 2_000. */
  ackTimeout?: number;
  /** Re-sends of an unacknowledged message to a subscriber. Default 10. */
  sendRetries?: number;
  /** Messages waiting per twin behind an unacknowledged one; past it the oldest is dropped. Default 10_000. */
  outboxCapacity?: number;
  /** QoS1/2 messages per twin that may await their ACK at once; 1 is the JL one-at-a-time rule. Default 1_024. */
  maxInflight?: number;
  /** How long live messages wait for a twin's `reactive` replay before flowing anyway, ms. Default 2_000. */
  reactiveWait?: number;
  /**
   * Provisioning: tenants and their PINs, admins, private topics, component keys (spec §3.3,
   * §3.5, §6). Default: the file store `<dataDir>/<name>/` (`tenants.json`, `admins.json`,
   * `topic_auth.json`, `keys/`) when `dataDir` is given, otherwise an empty in-memory store —
   * no keys, no private topics, one tenant: every name and topic open.
   */
  security?: SecurityStore;
  /**
   * Who may act without proving a name (README "Security"): `'optional'` serves anonymous
   * components and names without a key on file, with the rights of anyone; `'required'` serves
   * only components that proved their name (key signature or shared secret) — the others may
   * only register and log in. Default `'optional'`.
   */
  auth?: 'optional' | 'required';
  /**
   * With isolated tenants (a `tenants.json` naming tenants other than `'.'`), a tenant admits
   * only names that proved themselves unless it is listed here (`'.'`: names without a dot and
   * anonymous components). Default none.
   */
  openTenants?: readonly string[];
  /** With `auth: 'required'`: a connection that has not proven a name after this long is closed (1008), ms. Default 10_000. */
  loginTimeout?: number;
  /** Names added to the admins (and to `admins.json` with a file store) at start; an admin acts only once proven. Default none. */
  admins?: readonly string[];
  /**
   * Serve `wss://`: the certificate chain and private key, PEM (see `loadTlsOptions` to read
   * and check files). Default none: plain `ws://`.
   */
  tls?: { cert: string | Uint8Array; key: string | Uint8Array };
  /**
   * Unread bytes a peer may leave in its send buffer; past it the broker cuts its link as a
   * slow consumer (dropped without a closing handshake, counted in `stats().slowConsumers`)
   * rather than buffer without bound. Default 64 MiB. See `flowControl` for the whole policy.
   */
  maxBufferedBytes?: number;
  /**
   * Slow consumers and publisher flow control, one policy: a link with more than `highWater`
   * (1 MiB) unread is *behind*; one behind of which nothing at all is written for
   * `stallTimeout` (2 s) — or for a quarter of it while `stallBytes` (8 MiB) more pile up for it —
   * or one past `maxBufferedBytes`, is cut as a slow consumer. A publish whose every
   * delivery found its link behind pauses reading from its publisher until one of those links
   * drains to half `highWater`, for at most `maxPause` (1 s) at a time; a publisher with one
   * reader keeping up is never paused. Default: those values.
   */
  flowControl?: FlowControlOptions;
  /**
   * A named component's twin (subscriptions, exposed methods, mark, QoS2 set) unseen for this
   * long, ms, expires: it is forgotten and deleted from the store. Default 30 days.
   */
  twinTtl?: number;
  /** Named twins kept at most; a login that would add one more is refused (status 10, `TwinLimitError`). Default 100_000. */
  maxTwins?: number;
  /** Largest frame accepted, bytes; a bigger one closes its link (code 1009). Default 60 MiB (spec §1.1). */
  maxPayload?: number;
  /**
   * HTTP on the listener (REST, JSON-RPC, `/metrics`, `/healthz`, `/readyz`, dashboard), wire
   * metrics and the `__broker__/stats` topic (docs/http.md). `false` turns all of it off. Default `{}`: all on.
   */
  http?: HttpOptions | false;
}

/** A snapshot of the broker's load, for monitoring and tests of its bounds. */
export interface BrokerStats {
  /** Open links. */
  readonly connections: number;
  /** Named twins known (online or not). */
  readonly twins: number;
  /** Named twins expired (offline past `twinTtl`) since start. */
  readonly expiredTwins: number;
  /** Logins refused since start because `maxTwins` twins existed. */
  readonly refusedTwins: number;
  /** RPCs forwarded and not yet answered. */
  readonly pendingRpcs: number;
  /** Messages queued in twins' outboxes (waiting for ACKs). */
  readonly outboxed: number;
  /** Live messages held back behind replays. */
  readonly held: number;
  /** Log entries not yet in the store. */
  readonly logBuffered: number;
  /** Logged messages dropped since start by the log's size bound (`maxLogBytes`, memory store bounds). */
  readonly logDropped: number;
  /** Links past the flow-control high water now. */
  readonly congested: number;
  /** Publishers whose links are paused by flow control now. */
  readonly pausedPublishers: number;
  /** Links cut as slow consumers since the broker started (see `BrokerOptions.flowControl`). */
  readonly slowConsumers: number;
  /**
   * The schema stage (with `schema`): rows persisted, payloads rejected, batches written, rows
   * dropped past its memory bound, and rows (and their estimated bytes) waiting for DuckDB.
   */
  /** The contract check at ingest (with `contracts`): publishes checked, refused (QoS1/2) and dropped (QoS0). */
  readonly contracts?: IngestStats;
  readonly schema?: { readonly persisted: number; readonly rejected: number; readonly batches: number; readonly dropped: number;
    readonly pendingRows: number; readonly pendingBytes: number;
    /** Live queries running now (README "Live queries"). */
    readonly liveQueries?: number };
}

/** A publish the broker accepted, as its stages (schema tables, bridges) see it. */
export interface Published {
  readonly topic: string;
  /**
   * Decoded arguments; DataFrames stay CBOR tag 80 (`Tag` from cbor-x). For a publish the broker
   * read in place they are decoded on first read, which throws `DecodeError` for the rare args
   * that are well-formed CBOR but that cbor-x refuses: guard the read.
   */
  readonly args: unknown[];
  /** The args item exactly as the publisher encoded it, when the broker read the frame in place. */
  readonly argsBytes?: Uint8Array;
  /** PUB flags (QoS and slot bits). */
  readonly flags: number;
  readonly id?: bigint;
  readonly slot?: number;
  /** Broker receive time, ns since the epoch. */
  readonly recv: bigint;
  /** Name of the publishing twin; '' for the broker itself. */
  readonly origin: string;
  /**
   * Only while tenants are isolated (else absent): the publishing component's name ('' an
   * anonymous one), or null for the broker's own publish (`broker.publish`, bridges), which
   * reaches every tenant. A cluster carries it to the other brokers (tenant checks there).
   */
  readonly publisher?: string | null;
  /** Published with `retain` (TS publish option; the MQTT bridge maps it to MQTT's retain flag). */
  readonly retain?: boolean;
  /** Expiry of a publish with `ttl`, ms since the epoch (MQTT 5 message expiry on the bridge). */
  readonly expires?: number;
}

/** A running broker. */
export interface Broker {
  /** The broker's name (`rid`). */
  readonly name: string;
  /** The bound WebSocket port, or undefined without a listener. */
  readonly port: number | undefined;
  /** `ws://host:port` (`wss://` with `tls`) clients can dial, or undefined without a listener. */
  readonly url: string | undefined;
  /** `tcp://host:port` (`tls://` with `tls`) when `tcp` was given, else undefined. */
  readonly tcpUrl?: string | undefined;
  /** Serve one more connection: the broker accepts any Link. */
  handle(link: Link): void;
  /** Every publish the broker accepts, after it is logged and routed. Hot. */
  readonly messages$: Observable<Published>;
  /** Publish from the broker itself; logged and routed to subscribers like any publish. */
  publish(topic: string, ...args: unknown[]): void;
  /** Expose a broker-local method (value, Promise or Observable result). Returns its teardown. */
  expose(method: string, handler: Handler): () => void;
  /** Current load figures. */
  stats(): BrokerStats;
  /**
   * The state of the links `mqtt` and `join` opened (MQTT bridge first), e.g.
   * `[{ kind: 'mqtt', url, status: { type: 'up', url } }]`; `[]` without any. Replays the latest;
   * completes on close. The broker serves its own components whatever the links do.
   */
  readonly links$: Observable<readonly LinkState[]>;
  /** Close every connection and the listener. Idempotent. */
  close(): Promise<void>;
  /**
   * Resolves once the broker has closed: by `close()`, by an admin's `shutdown` command, or
   * because its store failed for good (then `failure` says why).
   */
  readonly closed: Promise<void>;
  /** Set when the broker stopped by itself: a StoreFailedError (code `STORE_FAILED`). */
  readonly failure: Error | undefined;
  [Symbol.asyncDispose](): Promise<void>;
}
