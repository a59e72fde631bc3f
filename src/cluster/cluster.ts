/**
 * A rembus cluster over NATS (issue 19): brokers sharing a cluster name and NATS servers form
 * one logical broker. Loaded lazily by broker.ts only when `cluster` is set.
 *
 * - **QoS0** publishes go once to core NATS on `rembus.<c>.m0.<topic>` (subject.ts) with the
 *   publisher's CBOR args as the body; the connection is `noEcho`, so every *other* broker gets
 *   it and routes it to its own subscribers (exact, wildcard, catch-all), logged, never sent on
 *   (core-publishes.ts).
 * - **QoS1/2** publishes are not routed by the broker that received them: they are stored in
 *   the JetStream stream `REMBUS_<c>` (subjects `rembus.<c>.m1.>`, R = `replicas`) with
 *   `Nats-Msg-Id` = publisher name + message id, and the publisher's ACK leaves once JetStream
 *   acknowledged the store at that replication. Every broker (the first included) routes them
 *   from one ordered consumer of the stream, so all brokers see one order, a QoS2 message
 *   re-sent to another broker after a failover is stored once (JetStream's duplicate window),
 *   and the publisher's own twin never gets its message back (stream-publishes.ts).
 * - **RPC** crosses brokers on request/reply (cluster-rpc.ts).
 * - **Twins** are shared in the KV bucket `REMBUS_<c>_TWINS` (twin-kv.ts), marks as stream sequences (seq-index.ts).
 *
 * Order: one publisher's QoS0 messages keep their order, and so do its QoS1/2 messages; a QoS0
 * message may overtake a QoS1/2 message published before it (the latter waits for JetStream).
 */
import { BehaviorSubject, type Observable, of } from 'rxjs';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { InvalidTopicError } from '../errors.js';
import { errorText } from '../internal/logger.js';
import type { Status } from '../types.js';
import type { ClusterHost } from './cluster-host.js';
import { ClusterRpc } from './cluster-rpc.js';
import { CorePublishes } from './core-publishes.js';
import { SeqIndex } from './seq-index.js';
import { ensureStream, StreamPublishes } from './stream-publishes.js';
import { replayGap } from './stream-replay.js';
import { openTwinBucket, TwinKv } from './twin-kv.js';
import { startClusterData, type ClusterData } from './schema-writer.js';
import { isToken } from './subject.js';
import type { ClusterOptions } from './types.js';

const NS_PER_MS = 1_000_000;

/** A running cluster link. */
export interface Cluster {
  /** This broker's id in the cluster (`<name>-<8 hex>`). */
  readonly id: string;
  /** The NATS link: `up`, `reconnecting`, `down`, then `closed`. Replays the latest. */
  readonly status$: Observable<Status>;
  /** Whether this broker leads the cluster (writes its schema tables); false without tables. */
  readonly leader$: Observable<boolean>;
  /** Leave the cluster. Idempotent. */
  close(): Promise<void>;
}

/**
 * Join the cluster: connect to NATS, make sure the stream exists, start forwarding.
 * @throws InvalidTopicError for a cluster name that is not one NATS token; the NATS connect error
 * when no server of `servers` answers.
 */
export async function openCluster(host: ClusterHost, options: ClusterOptions): Promise<Cluster> {
  const name = options.name ?? 'default';
  if (!isToken(name)) throw new InvalidTopicError(name, 'a cluster name is letters, digits, _ and -');
  const id = `${host.name.replace(/[^A-Za-z0-9_-]/gu, '_')}-${globalThis.crypto.randomUUID().slice(0, 8)}`;
  const nc = await connect({
    servers: typeof options.servers === 'string' ? options.servers : [...options.servers], name: `rembus-${id}`,
    noEcho: true, maxReconnectAttempts: -1, reconnectTimeWait: 250,
    ...(options.user === undefined ? {} : { user: options.user, pass: options.pass }),
    ...(options.token === undefined ? {} : { token: options.token }),
  });
  try {
    return await ClusterImpl.start(nc, host, options, name, id);
  } catch (err) {
    await nc.close();
    throw err;
  }
}

/** How long start-up waits for JetStream to answer, ms. */
const START_TIMEOUT_MS = 30_000;
/** How long start-up waits for the twin records of the other brokers, ms (ClusterOptions.twinLoadTimeout). */
const TWIN_LOAD_TIMEOUT_MS = 10_000;

class ClusterImpl implements Cluster {
  private readonly status = new BehaviorSubject<Status>({ type: 'up', url: '' });
  readonly status$ = this.status.asObservable();
  /** QoS0 over core NATS (core-publishes.ts), QoS1/2 through the stream (stream-publishes.ts). */
  private readonly core: CorePublishes;
  private readonly stream: StreamPublishes;
  private readonly rpc: ClusterRpc;
  readonly js;
  /** Stream sequence ↔ this broker's recv of what it routed. */
  readonly index = new SeqIndex();
  twins: TwinKv | undefined;
  private closing: Promise<void> | undefined;
  private data: ClusterData | undefined;
  get leader$(): Observable<boolean> { return this.data?.leader$ ?? of(false); }

  static async start(nc: NatsConnection, host: ClusterHost, options: ClusterOptions, name: string, id: string): Promise<ClusterImpl> {
    const stream = `REMBUS_${name}`;
    const prefix = `rembus.${name}`;
    const config = {
      subjects: [`${prefix}.m1.>`], num_replicas: options.replicas ?? 1, storage: StorageType.File,
      retention: RetentionPolicy.Limits, max_age: (options.maxAge ?? 86_400_000) * NS_PER_MS,
      duplicate_window: (options.duplicateWindow ?? 120_000) * NS_PER_MS,
    };
    // A NATS cluster that just started elects its JetStream leader within seconds: retry until then.
    const deadline = Date.now() + START_TIMEOUT_MS;
    let lastSeq: number;
    let bucket: Awaited<ReturnType<typeof openTwinBucket>>;
    for (;;) {
      try {
        lastSeq = await ensureStream(nc, stream, config);
        bucket = await openTwinBucket(jetstream(nc), name, options.replicas ?? 1);
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        host.log.debug({ err: errorText(err) }, 'JetStream not ready: retrying');
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    const cluster = new ClusterImpl(nc, host, options, prefix, id);
    cluster.index.add(lastSeq, host.logHead());
    await cluster.stream.consume(stream, lastSeq);
    if (host.data !== undefined || host.leads === true) cluster.data = await startClusterData(nc, host, host.data, { cluster: name, id, prefix, stream,
      replicas: options.replicas, leaseTtl: options.leaseTtl, timeout: options.requestTimeout ?? host.requestTimeout });
    cluster.twins = new TwinKv(bucket, host, id, cluster.index, options.twinInterval ?? 50,
      (gap, twin, session, admits, maxPeriod) => replayGap(cluster.js, stream, prefix, gap, twin, session, admits, maxPeriod));
    // No login before the twins the other brokers wrote are known: a component that moved here
    // would be taken for a new one, and what this broker never routed would not be replayed to it.
    const timeout = options.twinLoadTimeout ?? TWIN_LOAD_TIMEOUT_MS;
    if (!await cluster.twins.loaded(timeout)) {
      host.log.warn({ bucket: `REMBUS_${name}_TWINS`, timeout }, 'twin records not loaded in time: a component that moved here is served as new until they are');
    }
    host.use({ replicate: (session, msg) => cluster.stream.replicate(session, msg), remote: cluster.rpc, twins: cluster.twins });
    host.log.info({ cluster: name, id, stream, server: nc.getServer() }, 'cluster joined');
    return cluster;
  }

  private constructor(private readonly nc: NatsConnection, private readonly host: ClusterHost,
    options: ClusterOptions, prefix: string, readonly id: string) {
    this.js = jetstream(nc, { timeout: options.publishTimeout ?? 5_000 });
    this.core = new CorePublishes(nc, host, prefix, options);
    this.stream = new StreamPublishes(this.js, host, prefix, this.index, () => this.closing !== undefined);
    this.rpc = new ClusterRpc(nc, host, prefix, id, options.advertiseInterval ?? 1_000,
      options.requestTimeout ?? host.requestTimeout);
    void this.watch();
  }

  private async watch(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type === 'disconnect') this.status.next({ type: 'down' });
      else if (s.type === 'reconnect') this.status.next({ type: 'up', url: s.server });
      if (s.type === 'disconnect' || s.type === 'reconnect') this.host.log.warn({ nats: s.type, server: s.server }, 'cluster link');
      // The ordered consumer may stall on another node until its heartbeats time out: start a
      // new one after the last message routed at once.
      if (s.type === 'reconnect') this.stream.stop();
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.host.use(undefined);
      await this.data?.close();
      this.core.close();
      this.stream.stop();
      await this.twins?.close();
      await this.rpc.close();
      await this.nc.drain().catch(() => this.nc.close());
      this.status.next({ type: 'closed' });
      this.status.complete();
    })();
    return this.closing;
  }
}
