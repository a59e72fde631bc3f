/**
 * Faults of a cluster (issue 19 item 4), all processes real and on loopback: a 3-node NATS
 * cluster with JetStream (stream R3) and 3 rembus broker processes.
 *
 * Under QoS1 and QoS2 load from a publisher with a failover list, the broker it is connected to
 * is SIGKILLed: the publisher fails over to another broker and re-sends what was not
 * acknowledged. Then the NATS node of the subscriber's broker is SIGKILLed (and later
 * restarted) while the load goes on.
 * A subscriber on a third broker gets every acknowledged message, and no QoS2 message twice.
 * Finally every process is stopped and restarted on its data: the stream still holds every
 * acknowledged message, and pub/sub and RPC cross brokers again.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Decoder } from 'cbor-x';
import { connect as natsConnect } from '@nats-io/transport-node';
import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import { kill } from '../integration/broker-process.js';
import { startClusterBroker, useProcesses, type ClusterBroker } from './brokers.js';
import { startNats } from './nats.js';
import { qosLoad, Tally } from '../integration/qos-load.js';

const WINDOW = 16;
const CLUSTER = ['--cluster-name', 'fault', '--cluster-replicas', '3'];

const run = useProcesses();
const { opened, brokers, open } = run;



async function until(done: () => boolean | Promise<boolean>, timeout: number): Promise<void> {
  const end = Date.now() + timeout;
  while (!(await done()) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
}

/** What a broker logged about its cluster link, for a failure message. */
function clusterLog(b: ClusterBroker): string {
  return b.proc.stderr().split('\n').filter((l) => /cluster|nats|JetStream/iu.test(l)).slice(-20).join('\n');
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Every payload number stored in the cluster's stream, read back from its first message. */
async function streamed(servers: string[]): Promise<Tally> {
  const nc = await natsConnect({ servers });
  try {
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    const total = (await jsm.streams.info('REMBUS_fault')).state.messages;
    const tally = new Tally();
    const consumer = await js.consumers.get('REMBUS_fault', { deliver_policy: DeliverPolicy.All });
    const decoder = new Decoder({ useRecords: false });
    let seen = 0;
    if (total > 0) {
      const messages = await consumer.consume();
      for await (const m of messages) {
        tally.add((decoder.decode(m.data) as [number])[0]);
        if (++seen >= total) break;
      }
    }
    return tally;
  } finally {
    await nc.close();
  }
}

describe('cluster faults', () => {
  it('survives kill -9 of a rembus broker and of a NATS node under QoS1/2 load, and a full restart', async () => {
    const dir = run.dir = await mkdtemp(join(tmpdir(), 'rembus-cluster-'));
    const nats = run.nats = await startNats(3);
    const servers = nats.urls;
    const start = async (i: number, port?: number): Promise<ClusterBroker> => {
      const b = await startClusterBroker(join(dir, `b${i}`), servers, CLUSTER, port);
      brokers.push(b);
      return b;
    };
    const b = [await start(0), await start(1), await start(2)];

    const sink = open(`${b[2]!.url}/sink`);
    const live = { q1: new Tally(), q2: new Tally() };
    for (const topic of ['q1', 'q2'] as const) sink.subscribe$(topic).subscribe((m) => live[topic].add(m.args[0] as number));
    await sink.ready();
    await sink.rpc('rid');

    // Connected to b0, fails over to b1; re-sends what is not acknowledged every 500 ms.
    const pub = open([`${b[0]!.url}/producer`, b[1]!.url], { ackTimeout: 500, sendRetries: 10_000 });
    await pub.ready();
    const load = qosLoad(pub, WINDOW);
    const { acked } = load;
    const total = load.total;

    // 1. The rembus broker of the publisher dies.
    await until(() => total() >= 200, 30_000);
    await sleep(Math.random() * 200);
    await kill(b[0]!.proc);
    const atKill = total();
    await until(() => total() >= atKill + 200, 30_000);
    expect(total()).toBeGreaterThanOrEqual(atKill + 200);

    // 2. The NATS node of the subscriber's broker dies (R3 keeps a quorum of 2), then comes back.
    const joined = /"server":"127\.0\.0\.1:(\d+)"[^\n]*"msg":"cluster joined"/u.exec(b[2]!.proc.stderr());
    const natsNode = nats.nodes.find((node) => String(node.port) === joined?.[1]);
    expect(natsNode, b[2]!.proc.stderr()).toBeDefined();
    await nats.kill(natsNode!);
    const atNatsKill = total();
    await until(() => total() >= atNatsKill + 200, 30_000);
    expect(total()).toBeGreaterThanOrEqual(atNatsKill + 200);
    await nats.restart(natsNode!);

    load.stop();
    await until(() => load.inFlight() === 0, 30_000);
    expect(load.inFlight()).toBe(0);
    expect(load.failed()).toBe(0);

    const complete = (): boolean => live.q1.missing(acked.q1).length === 0 && live.q2.missing(acked.q2).length === 0;
    await until(complete, 30_000);
    await sleep(500); // room for a late duplicate
    expect({
      lost: { q1: live.q1.missing(acked.q1), q2: live.q2.missing(acked.q2) }, dupQos2: live.q2.duplicates(),
    }, clusterLog(b[2]!)).toEqual({ lost: { q1: [], q2: [] }, dupQos2: [] });

    // 3. Everything stops and restarts on its data: the stream still holds every acknowledged message.
    await Promise.all(opened.splice(0).map((c) => c.close()));
    const ports = b.map((x) => x.port);
    await Promise.all(brokers.splice(0).map((x) => kill(x.proc)));
    for (const node of nats.nodes) await nats.kill(node);
    for (const node of nats.nodes) await nats.restart(node);
    const again = [await start(0, ports[0]), await start(1, ports[1]), await start(2, ports[2])];
    const stored = await streamed(servers);
    expect({ q1: stored.missing(acked.q1), q2: stored.missing(acked.q2), dupQos2: acked.q2.filter((n) => (stored.counts.get(n) ?? 0) > 1) })
      .toEqual({ q1: [], q2: [], dupQos2: [] });

    const server = open(`${again[0]!.url}/server`);
    server.expose('add', (x: number, y: number) => x + y);
    const sub = open(`${again[1]!.url}/sub2`);
    const got: number[] = [];
    sub.subscribe$('after').subscribe((m) => got.push(m.args[0] as number));
    await Promise.all([server.ready(), sub.ready()]);
    await sub.rpc('rid');
    const caller = open(`${again[2]!.url}/caller`);
    await caller.ready();
    let sum: number | undefined;
    await until(async () => {
      sum = await caller.rpc<number>('add', 20, 22).catch(() => undefined);
      return sum !== undefined;
    }, 15_000);
    expect(sum).toBe(42);
    await caller.publishAsync('after', [7], { qos: 1 });
    await until(() => got.length > 0, 10_000);
    expect(got).toEqual([7]);
  }, 240_000);
});
