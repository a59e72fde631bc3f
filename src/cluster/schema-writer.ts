/**
 * The one writer of a cluster's schema tables (README "Data at rest in a cluster"), driven by
 * the leader lease (leader.ts) through the broker's {@link ClusterDataGate}:
 *
 * - **Leader.** Reads the stream `REMBUS_<c>` from the lowest position its tables hold
 *   (`_rembus_stream_seq`, committed with the rows) and feeds each QoS1/2 row to its stage,
 *   skipping the rows a table already holds; it also writes the QoS0 rows it routes (QoS0 is
 *   not in the stream: at most once, like QoS0 everywhere). It answers the table RPCs on
 *   `rembus.<c>.data.<id>`, after catching up with the stream as it was when the call came,
 *   so a call sees every QoS1/2 publish acknowledged before it, on whichever broker.
 * - **Follower.** Writes nothing and forwards the table RPCs to the lease holder; with no
 *   holder, or one that does not answer, they fail with {@link ClusterNoLeaderError}.
 *
 * The position lives with the data rather than in a durable consumer's ack floor: an ack is a
 * second record of the same fact that cannot commit atomically with DuckDB, and the tables of
 * each broker are its own file, so each leader resumes from what *its* tables hold.
 */
import { BehaviorSubject, filter, firstValueFrom, type Observable, type Subscription, throwError, timeout } from 'rxjs';
import type { Msg, NatsConnection } from '@nats-io/transport-node';
import { type ConsumerMessages, DeliverPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import { decodeValue, encodeValue } from '../codec/cbor.js';
import { encodeResult } from '../dataframe/index.js';
import { errorText } from '../internal/logger.js';
import { STATUS } from '../protocol/messages.js';
import { matchTable } from '../schema/match.js';
import type { Published } from '../schema/types.js';
import type { ClusterHost } from './cluster-host.js';
import { ClusterNoLeaderError, type ClusterDataGate } from './data-gate.js';
import { electLeader, type Leader } from './leader.js';
import { subjectToTopic } from './subject.js';

/** Rows fed to the stage between two waits for it to write them (bounds its queue). */
const FEED_WINDOW = 20_000;

export interface ClusterDataOptions {
  readonly cluster: string;
  readonly id: string;
  readonly prefix: string;
  readonly stream: string;
  readonly replicas?: number;
  readonly leaseTtl?: number;
  /** How long a forwarded call, or a leader catching up for it, may take, ms. */
  readonly timeout: number;
}

export interface ClusterData {
  /** Whether this broker is the cluster's leader (writer of the tables). */
  readonly leader$: Observable<boolean>;
  close(): Promise<void>;
}

/** Contend for the lease; with tables, write or forward as it says. */
export async function startClusterData(nc: NatsConnection, host: ClusterHost, gate: ClusterDataGate | undefined,
  options: ClusterDataOptions): Promise<ClusterData> {
  const leader = await electLeader(nc, { cluster: options.cluster, id: options.id, replicas: options.replicas,
    ttl: options.leaseTtl, log: host.log });
  // Without tables the lease only says who runs the bridges (leader-bridges.ts).
  if (gate === undefined) return { leader$: leader.leader$, close: () => leader.close() };
  return new SchemaWriter(nc, host, gate, leader, options, await jetstreamManager(nc));
}

class SchemaWriter implements ClusterData {
  readonly leader$: Observable<boolean>;
  private readonly js;
  /** Bumped at each change of role: a feed of an older role stops. */
  private epoch = 0;
  private messages: ConsumerMessages | undefined;
  private qos0: Subscription | undefined;
  /** Stream sequence of the last message fed (or skipped) by the current leader. */
  private readonly fed$ = new BehaviorSubject(0);
  private readonly role: Subscription;
  private readonly calls: { unsubscribe(): void };
  private closing: Promise<void> | undefined;

  constructor(private readonly nc: NatsConnection, private readonly host: ClusterHost, private readonly gate: ClusterDataGate,
    private readonly leader: Leader, private readonly o: ClusterDataOptions, private readonly jsm: Awaited<ReturnType<typeof jetstreamManager>>) {
    this.js = jetstream(nc);
    this.leader$ = leader.leader$;
    this.calls = nc.subscribe(`${o.prefix}.data.${o.id}`, { callback: (err, m) => { if (err === null) void this.serve(m); } });
    this.role = leader.leader$.subscribe((lead) => (lead ? this.lead() : this.follow()));
  }

  private follow(): void {
    this.epoch++;
    this.stopFeed();
    this.gate.use({ kind: 'remote', forward: (method, args) => this.forward(method, args) });
  }

  private lead(): void {
    const epoch = ++this.epoch;
    this.stopFeed();
    this.gate.use({ kind: 'local', ready: () => this.caughtUp() });
    this.qos0 = this.host.messages$.subscribe((p) => { if ((p.flags & 0x30) === 0) this.gate.push(p); });
    void this.feed(epoch).catch((err: unknown) => this.host.log.error({ err: errorText(err) }, 'schema writer stopped'));
  }

  private stopFeed(): void {
    this.qos0?.unsubscribe();
    this.qos0 = undefined;
    void this.messages?.close();
    this.messages = undefined;
  }

  /** Feed the stream's rows from the lowest position the tables hold, until the role changes. */
  private async feed(epoch: number): Promise<void> {
    const { schema, stage } = this.gate;
    if (schema === undefined || stage === undefined) return;
    // Rows pushed in an earlier term are committed first: the positions then cover them.
    await stage.flush();
    if (epoch !== this.epoch) return;
    const held = await this.gate.positions();
    let next = Math.min(...schema.tables.map((t) => held.get(t.name) ?? 0)) + 1;
    this.fed$.next(next - 1);
    this.host.log.info({ from: next, held: Object.fromEntries(held) }, 'schema writer: leading, reading the stream');
    let since = 0;
    while (epoch === this.epoch && this.closing === undefined) {
      try {
        const messages = await (await this.js.consumers.get(this.o.stream,
          { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: next })).consume({ expires: 5_000 });
        if (epoch !== this.epoch || this.closing !== undefined) return void messages.close();
        this.messages = messages;
        for await (const m of messages) {
          if (epoch !== this.epoch) break;
          if (m.seq > next) this.host.log.warn({ from: next, to: m.seq - 1 }, 'schema writer: these messages left the stream (maxAge) before this broker wrote them');
          next = m.seq + 1;
          if (this.take(m, held) && ++since >= FEED_WINDOW) {
            since = 0;
            await stage.flush();
          }
          this.fed$.next(m.seq);
        }
      } catch (err) {
        this.host.log.debug({ err: errorText(err) }, 'schema writer: stream consumer lost, resuming');
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  /** Push one stream message to the stage unless its table holds it already. */
  private take(m: JsMsg, held: Map<string, number>): boolean {
    const topic = subjectToTopic(`${this.o.prefix}.m1`, m.subject);
    const h = m.headers;
    if (topic === undefined || h === undefined) return false;
    const match = matchTable(this.gate.schema!, topic);
    if (match === undefined || m.seq <= (held.get(match.table.name) ?? 0)) return false;
    const data = m.data;
    const idHex = h.get('i');
    const p: Published = {
      topic, flags: Number(h.get('f')), origin: h.get('o'), seq: m.seq, argsBytes: data,
      // The time JetStream stored it: the same recv_ts whichever broker writes the row.
      recv: BigInt(Math.round(m.info.timestampNanos)),
      ...(idHex === '' ? {} : { id: BigInt(`0x${idHex}`) }),
      get args() { return decodeValue(data) as unknown[]; },
    };
    this.gate.push(p);
    return true;
  }

  /** Wait until the stream as it is now has been fed (the RPC handler then flushes it). */
  private async caughtUp(): Promise<void> {
    const last = (await this.jsm.streams.info(this.o.stream)).state.last_seq;
    await firstValueFrom(this.fed$.pipe(filter((seq) => seq >= last), timeout({ first: this.o.timeout,
      with: () => throwError(() => new ClusterNoLeaderError('table call', this.o.cluster,
        `the leader is still reading the stream: at ${this.fed$.value} of ${last}`)) })));
  }

  private async forward(method: string, args: unknown[]): Promise<unknown> {
    // Between two polls a follower may not have seen a new lease yet: ask the bucket.
    const holder = this.leader.holder() ?? await this.leader.lookup();
    if (holder === undefined || holder === this.o.id) {
      throw new ClusterNoLeaderError(method, this.o.cluster, holder === undefined ? 'no broker holds the lease' : 'the lease is changing hands');
    }
    let reply: Msg;
    try {
      reply = await this.nc.request(`${this.o.prefix}.data.${holder}`, encodeValue([method, args.map(encodeResult)]), { timeout: this.o.timeout });
    } catch (err) {
      throw new ClusterNoLeaderError(method, this.o.cluster, `leader ${holder} does not answer: ${errorText(err)}`, { cause: err });
    }
    const [status, data] = decodeValue(reply.data) as [number, unknown];
    if (status === STATUS.OK) return data;
    throw new Error(typeof data === 'string' ? data : errorText(data));
  }

  /** A table call forwarded by another broker: run it here (or forward it again if the lease moved). */
  private async serve(m: Msg): Promise<void> {
    let answer: [number, unknown];
    try {
      const [method, args] = decodeValue(m.data) as [string, unknown[]];
      answer = [STATUS.OK, encodeResult(await this.gate.serve(method, args)) ?? null];
    } catch (err) {
      answer = [STATUS.METHOD_EXCEPTION, errorText(err)];
    }
    if (!this.nc.isClosed()) m.respond(encodeValue(answer));
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.epoch++;
      this.role.unsubscribe();
      this.calls.unsubscribe();
      this.stopFeed();
      this.gate.close();
      await this.leader.close();
      this.fed$.complete();
    })();
    return this.closing;
  }
}
