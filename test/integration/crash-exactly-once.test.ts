/**
 * Exactly-once across broker crashes (spec §4.2, §4.7): a real broker process SIGKILLed 5 times
 * at random moments under QoS1 and QoS2 load and restarted on its data dir each time. The
 * publisher re-sends what was not acknowledged once it reconnects; a named subscriber stays
 * online (de-duplicating QoS2 ids until ACK2, as the component does) and another, offline,
 * connects at the end. Every acknowledged message arrives; no QoS2 message arrives twice.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { component, LastReceived, type Component } from '../../src/index.js';
import { freePort, kill, startBroker, type BrokerProcess } from './broker-process.js';
import { qosLoad, Tally } from './qos-load.js';

const KILLS = 5;
/** Publishes awaiting their ACK at once. */
const WINDOW = 16;

const opened: Component[] = [];
const brokers: BrokerProcess[] = [];
let dir: string | undefined;

function open(url: string, options = {}): Component {
  const node = component(url, { reconnect: { initialDelay: 50, maxDelay: 200 }, ...options });
  opened.push(node);
  return node;
}

afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.close()));
  await Promise.all(brokers.splice(0).map(kill));
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

function listen(node: Component): { q1: Tally; q2: Tally } {
  const tallies = { q1: new Tally(), q2: new Tally() };
  for (const topic of ['q1', 'q2'] as const) {
    node.subscribe$(topic, { msgfrom: LastReceived }).subscribe((m) => tallies[topic].add(m.args[0] as number));
  }
  return tallies;
}

async function until(done: () => boolean, timeout: number): Promise<void> {
  const end = Date.now() + timeout;
  while (!done() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('exactly-once across repeated SIGKILLs', () => {
  // fsync 'always' commits on lmdb's write thread: the ACK still waits for the commit.
  it.each(['off', 'always'])('loses no acknowledged QoS1/QoS2 message and delivers no QoS2 message twice (fsync %s)', async (fsync) => {
    dir = await mkdtemp(join(tmpdir(), 'rembus-crash-'));
    const port = await freePort();
    let broker = await startBroker(dir, port, ['--fsync', fsync]);
    brokers.push(broker);
    const url = broker.url;

    // The offline subscriber declares itself (durably: the reply follows the commit), then leaves.
    const offlineFirst = open(`${url}/offline`);
    listen(offlineFirst);
    await offlineFirst.ready();
    await offlineFirst.rpc('rid');
    await offlineFirst.close();

    const online = open(`${url}/online`);
    const live = listen(online);
    await online.ready();
    await online.rpc('rid');

    // Re-sends every ackTimeout while the broker is down, and again once it is back.
    const pub = open(`${url}/producer`, { ackTimeout: 500, sendRetries: 10_000 });
    await pub.ready();
    const load = qosLoad(pub, WINDOW);
    const { acked } = load;

    for (let k = 0; k < KILLS; k++) {
      const before = load.total();
      // Load for a random while, with at least some acknowledged traffic since the restart.
      await until(() => load.total() >= before + 50, 15_000);
      await sleep(Math.random() * 400);
      await kill(broker);
      broker = await startBroker(dir, port, ['--fsync', fsync]);
      brokers.push(broker);
    }
    await sleep(300);
    load.stop();
    await until(() => load.inFlight() === 0, 20_000);
    expect(load.inFlight()).toBe(0);
    expect(load.failed()).toBe(0);
    expect(acked.q2.length).toBeGreaterThan(100);

    const complete = (t: { q1: Tally; q2: Tally }) => () => t.q1.missing(acked.q1).length === 0 && t.q2.missing(acked.q2).length === 0;
    await until(complete(live), 20_000);
    const offline = open(`${url}/offline`);
    const late = listen(offline);
    await offline.ready();
    await until(complete(late), 20_000);
    await sleep(500); // room for a late duplicate to show up

    const report = {
      lostOnline: { q1: live.q1.missing(acked.q1), q2: live.q2.missing(acked.q2) },
      lostOffline: { q1: late.q1.missing(acked.q1), q2: late.q2.missing(acked.q2) },
      dupQos2: { online: live.q2.duplicates(), offline: late.q2.duplicates() },
    };
    expect(report).toEqual({ lostOnline: { q1: [], q2: [] }, lostOffline: { q1: [], q2: [] }, dupQos2: { online: [], offline: [] } });
  }, 120_000);
});
