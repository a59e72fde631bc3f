/**
 * Helpers of the MQTT integration tests: MQTT brokers on 127.0.0.1 and a per-test scope that
 * closes what a test opened, then fails it on leaked sockets or timers (STYLE §8, §9).
 *
 * Aedes 1.x (the Node broker among the dev dependencies) speaks MQTT 3.1.1 only: it refuses an
 * MQTT 5 CONNECT with return code 1. So the component is tested against `mqtt5Broker()`, a small
 * MQTT 5 broker written here over mqtt-packet (the codec of MQTT.js and Aedes) with exactly the
 * features the component relies on: No Local, shared subscriptions (round robin), subscription
 * identifiers (one copy per matching subscription, as Mosquitto sends them), and the request/
 * response properties passed through. When a `mosquitto` binary is installed, the same suites
 * also run against a real Mosquitto 2 (`mosquittoBroker()`).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect as connectTcp, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import { connect as mqttConnect, type IClientOptions, type MqttClient } from 'mqtt';
import * as mqttPacket from 'mqtt-packet';
import type { IPublishPacket, ISubscribePacket, IUnsubscribePacket, Packet } from 'mqtt-packet';
import { afterEach, beforeEach } from 'vitest';
import type { Component } from '../../src/component/types.js';
import type { Logger } from '../../src/types.js';
import { mqttComponent, type MqttComponentOptions } from '../../src/mqtt/index.js';
import { waitFor } from './helpers.js';

/** A broker a test can connect to. */
export interface TestBroker {
  /** `mqtt://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Stop: every connection is dropped at once, as when the broker dies. */
  close(): Promise<void>;
}

/** A SUBSCRIBE or UNSUBSCRIBE filter as the test broker received it. */
export interface BrokerEvent { readonly type: 'subscribe' | 'unsubscribe'; readonly clientId: string; readonly filter: string }

/** The test MQTT 5 broker, which records subscriptions. */
export interface Mqtt5Broker extends TestBroker {
  readonly events: BrokerEvent[];
}

export interface Mqtt5BrokerOptions {
  /** Port to listen on. Default 0 (any). */
  port?: number;
  /** Offer shared subscriptions (CONNACK property). Default true. */
  sharedSubscriptions?: boolean;
  /** Offer subscription identifiers (CONNACK property). Default true. */
  subscriptionIdentifiers?: boolean;
}

interface Sub { readonly filter: string; readonly group: string | undefined; readonly nl: boolean; readonly id: number | undefined }
interface Conn { readonly socket: Socket; clientId: string; readonly subs: Map<string, Sub> }

const V5 = { protocolVersion: 5 };

/** Start the MQTT 5 test broker (see the file summary). */
export async function mqtt5Broker(options: Mqtt5BrokerOptions = {}): Promise<Mqtt5Broker> {
  const { sharedSubscriptions = true, subscriptionIdentifiers = true } = options;
  const conns = new Set<Conn>();
  const events: BrokerEvent[] = [];
  let turn = 0; // round robin among the members of a shared subscription
  const send = (conn: Conn, packet: Packet): void => {
    if (!conn.socket.destroyed) conn.socket.write(mqttPacket.generate(packet, V5));
  };
  const route = (from: Conn, pub: IPublishPacket): void => {
    const groups = new Map<string, { conn: Conn; sub: Sub }[]>();
    for (const conn of conns) {
      for (const sub of conn.subs.values()) {
        if (!mqttMatch(sub.filter, pub.topic)) continue;
        if (sub.group !== undefined) {
          const key = `${sub.group}\u0000${sub.filter}`;
          groups.set(key, [...groups.get(key) ?? [], { conn, sub }]);
        } else if (!(sub.nl && conn === from)) deliver(conn, sub, pub);
      }
    }
    for (const members of groups.values()) {
      const pick = members[turn++ % members.length]!;
      deliver(pick.conn, pick.sub, pub);
    }
  };
  const deliver = (conn: Conn, sub: Sub, pub: IPublishPacket): void => {
    const { responseTopic, correlationData, userProperties, contentType } = pub.properties ?? {};
    const properties = {
      ...(responseTopic === undefined ? {} : { responseTopic }),
      ...(correlationData === undefined ? {} : { correlationData }),
      ...(userProperties === undefined ? {} : { userProperties }),
      ...(contentType === undefined ? {} : { contentType }),
      ...(sub.id === undefined ? {} : { subscriptionIdentifier: sub.id }),
    };
    send(conn, { cmd: 'publish', topic: pub.topic, payload: pub.payload, qos: 0, retain: false, dup: false, properties });
  };
  const onPacket = (conn: Conn, packet: Packet): void => {
    switch (packet.cmd) {
      case 'connect': {
        if (packet.protocolVersion !== 5) {
          conn.socket.end(mqttPacket.generate({ cmd: 'connack', returnCode: 1, sessionPresent: false }));
          return;
        }
        for (const other of conns) if (other !== conn && other.clientId === packet.clientId) other.socket.destroy();
        conn.clientId = packet.clientId;
        send(conn, { cmd: 'connack', reasonCode: 0, sessionPresent: false,
          properties: { sharedSubscriptionAvailable: sharedSubscriptions, subscriptionIdentifiersAvailable: subscriptionIdentifiers } });
        return;
      }
      case 'subscribe': return send(conn, { cmd: 'suback', messageId: packet.messageId, granted: subscribe(conn, packet) });
      case 'unsubscribe': return send(conn, { cmd: 'unsuback', messageId: packet.messageId, granted: unsubscribe(conn, packet) });
      case 'publish':
        if (packet.qos === 1) send(conn, { cmd: 'puback', messageId: packet.messageId!, reasonCode: 0 });
        if (packet.qos === 2) send(conn, { cmd: 'pubrec', messageId: packet.messageId!, reasonCode: 0 });
        return route(conn, packet);
      case 'pubrel': return send(conn, { cmd: 'pubcomp', messageId: packet.messageId, reasonCode: 0 });
      case 'pingreq': return send(conn, { cmd: 'pingresp' });
      case 'disconnect':
        conn.socket.end();
        return;
      default:
    }
  };
  const subscribe = (conn: Conn, packet: ISubscribePacket): number[] => packet.subscriptions.map((s) => {
    const shared = /^\$share\/([^/]+)\/(.+)$/.exec(s.topic);
    if (shared !== null && !sharedSubscriptions) return 0x9e;
    const id = packet.properties?.subscriptionIdentifier;
    if (id !== undefined && !subscriptionIdentifiers) return 0xa1;
    events.push({ type: 'subscribe', clientId: conn.clientId, filter: s.topic });
    conn.subs.set(s.topic, { filter: shared?.[2] ?? s.topic, group: shared?.[1], nl: s.nl === true, id: id as number | undefined });
    return s.qos;
  });
  const unsubscribe = (conn: Conn, packet: IUnsubscribePacket): number[] => packet.unsubscriptions.map((f) => {
    events.push({ type: 'unsubscribe', clientId: conn.clientId, filter: f });
    return conn.subs.delete(f) ? 0 : 0x11;
  });
  const server = createServer((socket) => {
    const conn: Conn = { socket, clientId: '', subs: new Map() };
    conns.add(conn);
    const parser = mqttPacket.parser(V5);
    parser.on('packet', (packet: Packet) => onPacket(conn, packet));
    parser.on('error', () => socket.destroy());
    socket.on('data', (data: Buffer) => parser.parse(data));
    socket.on('error', () => undefined);
    socket.on('close', () => conns.delete(conn));
  });
  const port = await listen(server, options.port ?? 0);
  let closing: Promise<void> | undefined;
  return {
    url: `mqtt://127.0.0.1:${port}`, port, events,
    close: () => closing ??= new Promise<void>((resolve) => {
      for (const conn of conns) conn.socket.destroy();
      server.close(() => resolve());
    }),
  };
}

/** MQTT 5 §4.7 topic filter matching, for the test broker. */
function mqttMatch(filter: string, topic: string): boolean {
  const fl = filter.split('/');
  const tl = topic.split('/');
  if (topic.startsWith('$') && (fl[0] === '+' || fl[0] === '#')) return false;
  for (let i = 0; i < fl.length; i++) {
    if (fl[i] === '#') return true;
    if (i >= tl.length || (fl[i] !== '+' && fl[i] !== tl[i])) return false;
  }
  return fl.length === tl.length;
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

/** Aedes 1.x on 127.0.0.1 port 0 (`net.createServer(aedes.handle)`): an MQTT 3.1.1-only broker. */
export async function aedesBroker(): Promise<TestBroker & { readonly aedes: Aedes }> {
  const aedes = await Aedes.createBroker();
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    aedes.handle(socket);
  });
  const port = await listen(server, 0);
  let closing: Promise<void> | undefined;
  return {
    url: `mqtt://127.0.0.1:${port}`, port, aedes,
    close: () => closing ??= new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => aedes.close(() => resolve()));
    }),
  };
}

/** The path of an installed `mosquitto` binary, if any. */
export const MOSQUITTO: string | undefined = (() => {
  for (const path of ['/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto']) {
    if (spawnSync(path, ['-h']).error === undefined) return path;
  }
  return undefined;
})();

/** A Mosquitto 2 process on a free 127.0.0.1 port (needs {@link MOSQUITTO}). */
export async function mosquittoBroker(): Promise<TestBroker> {
  const probe = createServer();
  const port = await listen(probe, 0);
  await new Promise((resolve) => probe.close(resolve));
  const dir = mkdtempSync(join(tmpdir(), 'rembus-mosquitto-'));
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest none\n`);
  const child: ChildProcess = spawn(MOSQUITTO!, ['-c', conf], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitFor(() => new Promise<boolean>((resolve) => {
    const socket = connectTcp(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  }), { timeout: 5_000, interval: 20, what: `mosquitto on port ${port}` });
  let closing: Promise<void> | undefined;
  return {
    url: `mqtt://127.0.0.1:${port}`, port,
    close: () => closing ??= (async () => {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    })(),
  };
}

/** What a test opens; `useMqttScope` closes it after each test, clients before brokers. */
export interface MqttScope {
  /** Track a broker (closed last). */
  broker<B extends TestBroker>(broker: B): B;
  /** A component of `broker` named `name` (anonymous without one). */
  component(broker: TestBroker, name?: string, options?: MqttComponentOptions): Component;
  /** `component` and wait until it is up. */
  connect(broker: TestBroker, name?: string, options?: MqttComponentOptions): Promise<Component>;
  /** A raw MQTT.js client of `broker`, connected. */
  raw(broker: TestBroker, options?: IClientOptions): Promise<MqttClient>;
}

/** Register hooks that close what each test opened and fail it on leaked sockets and timers. */
export function useMqttScope(): MqttScope {
  let clients: (() => Promise<unknown>)[] = [];
  let brokers: TestBroker[] = [];
  let baseline = 0;
  let timers: TimerTracker | undefined;
  beforeEach(() => {
    baseline = socketCount();
    timers = trackTimers();
  });
  afterEach(async () => {
    const [c, b] = [clients, brokers];
    clients = [];
    brokers = [];
    try {
      await Promise.all(c.map((close) => close()));
      await Promise.all(b.map((broker) => broker.close()));
      await waitFor(() => socketCount() <= baseline && timers!.live().length === 0,
        { timeout: 2_000, interval: 5, what: 'sockets and timers to be released' }).catch(() => {
        throw new Error(`leaked after the test: ${socketCount() - baseline} socket(s); timers:\n  ${timers!.live().join('\n  ')}`);
      });
    } finally {
      timers?.restore();
    }
  });
  const scope: MqttScope = {
    broker(broker) {
      brokers.push(broker);
      return broker;
    },
    component(broker, name, options) {
      const node = mqttComponent(name === undefined ? broker.url : `${broker.url}/${name}`, options);
      clients.push(() => node.close());
      return node;
    },
    async connect(broker, name, options) {
      const node = scope.component(broker, name, options);
      await node.ready();
      return node;
    },
    async raw(broker, options) {
      const client = mqttConnect(broker.url, { protocolVersion: 5, reconnectPeriod: 0, ...options });
      clients.push(() => client.endAsync());
      await new Promise<void>((resolve, reject) => {
        client.once('connect', () => resolve());
        client.once('error', reject);
      });
      return client;
    },
  };
  return scope;
}

const SOCKETS = new Set(['TCPSocketWrap', 'TCPServerWrap']);

function socketCount(): number {
  return process.getActiveResourcesInfo().filter((kind) => SOCKETS.has(kind)).length;
}

interface TimerTracker { live(): string[]; restore(): void }

/** Record the timers made from now on, to tell which are still pending (as in helpers.ts). */
function trackTimers(): TimerTracker {
  const created = new Map<NodeJS.Timeout, string>();
  const g = globalThis as unknown as Record<'setTimeout' | 'setInterval', (...args: unknown[]) => NodeJS.Timeout>;
  const original = { setTimeout: g.setTimeout, setInterval: g.setInterval };
  for (const name of ['setTimeout', 'setInterval'] as const) {
    const make = original[name];
    g[name] = Object.assign((...args: unknown[]) => {
      const timer = make(...args);
      const frames = (new Error().stack ?? '').split('\n').slice(2).map((l) => l.trim());
      created.set(timer, `${name}(${String(args[1] ?? 0)} ms) ${frames.find((f) => !f.includes('mqtt-helpers')) ?? '?'}`);
      return timer;
    }, make);
  }
  return {
    live: () => [...created].filter(([t]) => !(t as unknown as { _destroyed: boolean })._destroyed).map(([, at]) => at),
    restore: () => {
      g.setTimeout = original.setTimeout;
      g.setInterval = original.setInterval;
    },
  };
}

/**
 * A direct RPC of each component to itself, through the broker, in order. The broker handles a
 * connection's packets in order and forwards to each connection in order, so once it returns,
 * everything each component sent before has been routed, and everything routed to it before
 * has arrived: a delivery that has not arrived will not.
 */
export async function settle(...nodes: Component[]): Promise<void> {
  for (const node of nodes) {
    if (node.name === undefined) throw new Error('settle needs named components');
    // No such method: the answer is a METHOD_NOT_FOUND response, which is all we need.
    await node.call('__settle__', [], { target: node.name, timeout: 5_000 }).catch((err: unknown) => {
      if ((err as { code?: unknown }).code !== 'METHOD_NOT_FOUND') throw err;
    });
  }
}

/** A pino-shaped logger that keeps what it is told. */
export interface RecordingLogger extends Logger {
  readonly entries: { readonly level: string; readonly msg: string | undefined; readonly obj: unknown }[];
}

export function recordingLogger(): RecordingLogger {
  const entries: RecordingLogger['entries'] = [];
  const at = (level: string) => (obj: unknown, msg?: string): void => { entries.push({ level, msg, obj }); };
  const logger: RecordingLogger = {
    entries, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => logger,
  };
  return logger;
}
