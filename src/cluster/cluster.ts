/**
 * A rembus cluster over NATS (issue 19): brokers sharing a cluster name and NATS servers form
 * one logical broker. Loaded lazily by broker.ts only when `cluster` is set.
 *
 * - **QoS0** publishes go once to core NATS on `rembus.<c>.m0.<topic>` (subject.ts) with the
 *   publisher's CBOR args as the body; the connection is `noEcho`, so every *other* broker gets
 *   it and routes it to its own subscribers (exact, wildcard, catch-all), logged, never sent on.
 * - **QoS1/2** publishes are not routed by the broker that received them: they are stored in
 *   the JetStream stream `REMBUS_<c>` (subjects `rembus.<c>.m1.>`, R = `replicas`) with
 *   `Nats-Msg-Id` = publisher name + message id, and the publisher's ACK leaves once JetStream
 *   acknowledged the store at that replication. Every broker (the first included) routes them
 *   from one ordered consumer of the stream, so all brokers see one order, a QoS2 message
 *   re-sent to another broker after a failover is stored once (JetStream's duplicate window),
 *   and the publisher's own twin never gets its message back.
 * - **RPC** crosses brokers on request/reply (cluster-rpc.ts).
 * - **Twins** are shared in the KV bucket `REMBUS_<c>_TWINS` (twin-kv.ts), marks as stream sequences (seq-index.ts).
 *
 * Order: one publisher's QoS0 messages keep their order, and so do its QoS1/2 messages; a QoS0
 * message may overtake a QoS1/2 message published before it (the latter waits for JetStream).
 */
import { BehaviorSubject, type Observable, of, type Subscription } from 'rxjs';
import { Decoder, Encoder } from 'cbor-x';
import { connect, headers, type NatsConnection, type Msg } from '@nats-io/transport-node';
import {
  type ConsumerMessages, DeliverPolicy, jetstream, jetstreamManager, type JsMsg, RetentionPolicy, StorageType,
} from '@nats-io/jetstream';
import type { Published } from '../broker/types.js';
import type { Session, Twin } from '../broker/twin.js';
import { InvalidTopicError } from '../errors.js';
import { errorText } from '../internal/logger.js';
import type { PubMsg } from '../protocol/messages.js';
import type { Status } from '../types.js';
import type { ClusterHost } from './cluster-host.js';
import { ClusterRpc } from './cluster-rpc.js';
import { DEFAULT_INTEREST_LIMIT, NatsInterest } from './interest.js';
import { SeqIndex } from './seq-index.js';
import { replayGap } from './stream-replay.js';
import { openTwinBucket, TwinKv } from './twin-kv.js';
import { startClusterData, type ClusterData } from './schema-writer.js';
import { isToken, subjectToTopic, topicToSubject } from './subject.js';
import type { ClusterOptions } from './types.js';

const encoder = new Encoder({ useRecords: false });
const decoder = new Decoder({ useRecords: false });
const NS_PER_MS = 1_000_000;
/** Publishers remembered between their publish and its return from the stream (no echo). */
const ORIGINS_CAPACITY = 100_000;

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

/** Make sure the stream exists; resolves with the sequence of its last message (0: none). */
async function ensureStream(nc: NatsConnection, stream: string, config: Record<string, unknown>): Promise<number> {
  const jsm = await jetstreamManager(nc);
  try {
    return (await jsm.streams.info(stream)).state.last_seq;
  } catch {
    // not there yet
  }
  try {
    return (await jsm.streams.add({ name: stream, ...config })).state.last_seq;
  } catch (err) {
    // Another broker created it meanwhile: fine, anything else is not.
    return (await jsm.streams.info(stream).catch(() => { throw err; })).state.last_seq;
  }
}

class ClusterImpl implements Cluster {
  private readonly status = new BehaviorSubject<Status>({ type: 'up', url: '' });
  readonly status$ = this.status.asObservable();
  private readonly prefix: string;
  private readonly origins = new Map<string, Twin>();
  private readonly outbound: Subscription;
  private readonly rpc: ClusterRpc;
  readonly js;
  private stopConsumer: (() => void) | undefined;
  /** Stream sequence ↔ this broker's recv of what it routed. */
  readonly index = new SeqIndex();
  twins: TwinKv | undefined;
  /** Stream sequence of the last message routed. */
  private lastSeq = 0;
  private closing: Promise<void> | undefined;
  private readonly interest: NatsInterest | undefined;
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
    await cluster.consume(stream, lastSeq);
    if (host.data !== undefined || host.leads === true) cluster.data = await startClusterData(nc, host, host.data, { cluster: name, id, prefix, stream,
      replicas: options.replicas, leaseTtl: options.leaseTtl, timeout: options.requestTimeout ?? host.requestTimeout });
    cluster.twins = new TwinKv(bucket, host, id, cluster.index, options.twinInterval ?? 50,
      (gap, twin, session, admits, maxPeriod) => replayGap(cluster.js, stream, prefix, gap, twin, session, admits, maxPeriod));
    host.use({ replicate: (session, msg) => cluster.replicate(session, msg), remote: cluster.rpc, twins: cluster.twins });
    host.log.info({ cluster: name, id, stream, server: nc.getServer() }, 'cluster joined');
    return cluster;
  }

  private constructor(private readonly nc: NatsConnection, private readonly host: ClusterHost,
    private readonly options: ClusterOptions, prefix: string, readonly id: string) {
    this.prefix = prefix;
    this.js = jetstream(nc, { timeout: options.publishTimeout ?? 5_000 });
    // Every QoS0 publish of the cluster, or only those of the topics subscribed here (interest.ts).
    if (options.interest === 'subscribed') {
      this.interest = new NatsInterest(nc, `${prefix}.m0`, host, options.interestLimit ?? DEFAULT_INTEREST_LIMIT, (m) => this.inbound0(m));
    } else nc.subscribe(`${prefix}.m0.>`, { callback: (err, m) => { if (err === null) this.inbound0(m); } });
    this.outbound = host.messages$.subscribe((p) => this.forward0(p));
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
      if (s.type === 'reconnect') this.stopConsumer?.();
    }
  }

  // ---- QoS0 ----------------------------------------------------------------------------

  private forward0(p: Published): void {
    if ((p.flags & 0x30) !== 0 || p.origin.startsWith('cluster:') || this.nc.isClosed()) return;
    let body: Uint8Array;
    try {
      body = p.argsBytes ?? encoder.encode(p.args);
    } catch (err) {
      this.host.log.debug({ topic: p.topic, err: errorText(err) }, 'publish not sent to the cluster');
      return;
    }
    // With isolated tenants the other brokers deliver it to its publisher's tenant only (none: the broker's own).
    const publisher = p.publisher;
    if (typeof publisher !== 'string') return this.nc.publish(topicToSubject(`${this.prefix}.m0`, p.topic), body);
    const h = headers();
    h.set('o', publisher);
    this.nc.publish(topicToSubject(`${this.prefix}.m0`, p.topic), body, { headers: h });
  }

  /** A cluster message's args; undefined (logged) when they do not decode. */
  private argsOf(topic: string, data: Uint8Array): unknown[] | undefined {
    try {
      return decoder.decode(data) as unknown[];
    } catch (err) {
      this.host.log.warn({ topic, err: errorText(err) }, 'cluster message dropped');
      return undefined;
    }
  }

  private inbound0(m: Msg): void {
    const topic = subjectToTopic(`${this.prefix}.m0`, m.subject);
    if (topic === undefined) return;
    const args = this.argsOf(topic, m.data);
    if (args === undefined) return;
    const h = m.headers;
    this.host.inject({ type: 'pub', flags: 0, topic, args }, 'cluster:', null, h?.has('o') === true ? h.get('o') : undefined);
  }

  // ---- QoS1/2 ----------------------------------------------------------------------------

  /** A QoS1/2 publish of a component of this broker: ACK once JetStream has it. */
  replicate(session: Session, msg: PubMsg): void {
    const twin = session.twin;
    const msgId = `${twin.name}:${msg.id!.toString(16)}`;
    let body: Uint8Array;
    try {
      body = (msg as { argsBytes?: Uint8Array }).argsBytes ?? encoder.encode(msg.args);
    } catch (err) {
      this.host.log.warn({ topic: msg.topic, err: errorText(err) }, 'publish refused: args not encodable');
      return;
    }
    const h = headers();
    h.set('f', String(msg.flags));
    h.set('i', msg.id!.toString(16));
    h.set('o', twin.name);
    this.origins.set(msgId, twin);
    if (this.origins.size > ORIGINS_CAPACITY) this.origins.delete(this.origins.keys().next().value!);
    this.js.publish(topicToSubject(`${this.prefix}.m1`, msg.topic), body, { msgID: msgId, headers: h }).then(
      () => { if (session.link.isOpen) session.send({ type: 'ack', id: msg.id! }); },
      // No ACK: the component sends it again (to this broker or, after a failover, another).
      (err: unknown) => this.host.log.warn({ topic: msg.topic, err: errorText(err) }, 'publish not stored in JetStream'),
    );
  }

  /**
   * Route the stream's messages from `lastSeq` on. The ordered consumer re-creates itself after
   * a NATS node is lost; after a reconnect, or should it give up (JetStream without a leader for
   * a while), a new one starts after the last message routed, so none is skipped and none routed twice.
   */
  private async consume(stream: string, lastSeq: number): Promise<void> {
    this.lastSeq = lastSeq;
    const open = async (): Promise<ConsumerMessages> => (await this.js.consumers.get(stream,
      { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: this.lastSeq + 1 })).consume({ expires: 5_000 });
    let messages = await open();
    this.stopConsumer = () => void messages.close();
    void (async () => {
      while (this.closing === undefined) {
        try {
          for await (const m of messages) {
            this.lastSeq = m.seq;
            this.inbound1(m);
            this.index.add(m.seq, this.host.logHead());
          }
        } catch (err) {
          this.host.log.warn({ err: errorText(err) }, 'cluster stream consumer lost: resuming');
        }
        while (this.closing === undefined) {
          try {
            messages = await open();
            this.stopConsumer = () => void messages.close();
            break;
          } catch (err) {
            this.host.log.debug({ err: errorText(err) }, 'cluster stream consumer: retrying');
            await new Promise((r) => setTimeout(r, 250));
          }
        }
      }
    })();
  }

  private inbound1(m: JsMsg): void {
    const topic = subjectToTopic(`${this.prefix}.m1`, m.subject);
    const h = m.headers;
    if (topic === undefined || h === undefined) return;
    const args = this.argsOf(topic, m.data);
    if (args === undefined) return;
    const idHex = h.get('i');
    const origin = h.get('o');
    const key = `${origin}:${idHex}`;
    const from = this.origins.get(key) ?? null;
    this.origins.delete(key);
    this.host.inject({ type: 'pub', flags: Number(h.get('f')), id: BigInt(`0x${idHex}`), topic, args },
      from === null ? `cluster:${origin}` : origin, from, origin);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.host.use(undefined);
      await this.data?.close();
      this.outbound.unsubscribe();
      this.interest?.close();
      this.stopConsumer?.();
      await this.twins?.close();
      await this.rpc.close();
      await this.nc.drain().catch(() => this.nc.close());
      this.status.next({ type: 'closed' });
      this.status.complete();
    })();
    return this.closing;
  }
}
