/**
 * The MQTT bridge's tenant (README "MQTT and federation"): on a broker that isolates tenants
 * the bridge is one tenant's — the default tenant `.` unless `broker({ mqttTenant })` /
 * `--mqtt-tenant` names another — for pub/sub and for RPC both ways: what MQTT brings in
 * reaches that tenant only, only that tenant's publishes (and the broker's own) go out, MQTT
 * callers reach that tenant's methods only, and only that tenant's components reach the
 * `mqttMethods` served on the MQTT side. Real broker on 127.0.0.1 port 0 and the in-process
 * MQTT 5 test broker.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { connect as mqttConnect } from 'mqtt';
import { filter, firstValueFrom, timeout } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/index.js';
import { InvalidOptionError, MethodNotFoundError, type Component, type Message } from '../../src/index.js';
import { mqttComponent } from '../../src/mqtt/index.js';
import { memorySecurityStore } from '../../src/security/index.js';
import { collect, roundTrip, untilResolved, useScope, waitFor } from './helpers.js';
import { mqtt5Broker } from './mqtt-helpers.js';

const scope = useScope();
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The compiled CLI (npm run build; .ci/run builds before the tests). */
const MAIN = `${ROOT}dist/src/cli/main.js`;

beforeAll(() => {
  // The CLI under test is the compiled one: build it when missing (as cli-messaging.test.ts does).
  if (!existsSync(MAIN)) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'pipe' });
}, 120_000);
const NAMES = ['plain', 'mate.acme', 'spy.beta', 'meta.acme'];
const secret = (name: string): string => `${name} secret`;

/** A broker with tenants acme and beta bridged to MQTT as `mqttTenant`, its components, an MQTT client and an mqtt:// component. */
const security = () => memorySecurityStore({ tenants: { acme: '1111', beta: '2222' }, keys: Object.fromEntries(NAMES.map((n) => [n, secret(n)])) });

async function bridged(mqttTenant?: string) {
  const server = scope.track(await mqtt5Broker());
  const b: Broker = await scope.broker({ mqtt: server.url, mqttMethods: ['over_mqtt'], ...(mqttTenant === undefined ? {} : { mqttTenant }),
    security: security() });
  await firstValueFrom(b.links$.pipe(filter((l) => l.length > 0 && l.every((x) => x.status.type === 'up')), timeout(5_000)));
  const mqtt = mqttConnect(server.url, { protocolVersion: 5, reconnectPeriod: 0 });
  scope.track({ close: () => mqtt.endAsync() });
  await new Promise<void>((resolve, reject) => { mqtt.once('connect', () => resolve()); mqtt.once('error', reject); });
  const [plain, mate, spy] = await Promise.all(NAMES.slice(0, 3).map((n) => scope.connect(b, n, { key: secret(n) }))) as [Component, Component, Component];
  const overMqtt = scope.track(mqttComponent(`${server.url}/mqtt-side`, { requestTimeout: 1_000 }));
  await overMqtt.ready();
  overMqtt.expose('over_mqtt', () => 'from mqtt');
  plain.expose('m_plain', () => 'plain');
  mate.expose('m_acme', () => 'acme');
  spy.expose('m_beta', () => 'beta');
  await roundTrip(plain, mate, spy);
  return { b, mqtt, plain, mate, spy, overMqtt };
}

/** Call until it goes through (the MQTT SUBSCRIBEs have no round trip to wait on). */
const eventually = <T>(call: () => Promise<T>): Promise<T> => untilResolved(call);

const texts = (ms: Message[]): string[] => ms.map((m) => `${m.topic}:${JSON.stringify(m.args[0])}`);
const fails = (call: Promise<unknown>): Promise<string> => call.then(() => 'served', (err: unknown) => (err as Error).name);

describe('the MQTT bridge\'s tenant', () => {
  for (const [tenant, home, homeMethod, others] of [
    [undefined, 'plain', 'm_plain', ['m_acme', 'm_beta']],
    ['acme', 'mate', 'm_acme', ['m_plain', 'm_beta']],
  ] as const) {
    it(`serves RPC both ways for its tenant only (${tenant ?? 'default'})`, async () => {
      const nodes = await bridged(tenant);
      const { overMqtt } = nodes;
      const own = nodes[home];
      expect(await eventually(() => overMqtt.rpc<string>(homeMethod))).toBe(homeMethod.slice(2));
      for (const m of others) expect(await fails(overMqtt.rpc(m))).toBe('RpcTimeoutError');
      expect(await eventually(() => own.rpc<string>('over_mqtt'))).toBe('from mqtt');
      for (const other of (['plain', 'mate', 'spy'] as const).filter((x) => x !== home)) {
        expect(await nodes[other].rpc('over_mqtt').catch((e: unknown) => e)).toBeInstanceOf(MethodNotFoundError);
      }
    });
  }

  it('carries the named tenant\'s publishes only, both ways', async () => {
    const { b, mqtt, plain, mate, spy } = await bridged('acme');
    const [atPlain, atMate, atSpy] = [plain, mate, spy].map((n) => collect(n.subscribe$('news/*'), 1));
    // With metadata: no publisher name for what MQTT brings in (no component published it).
    const meta = await scope.connect(b, 'meta.acme', { key: secret('meta.acme'), metadata: true });
    const atMeta = collect(meta.subscribe$('news/mqtt'), 2);
    await roundTrip(plain, mate, spy, meta);
    const out: string[] = [];
    mqtt.on('message', (t, payload) => out.push(`${t}:${payload.toString('utf8')}`));
    await mqtt.subscribeAsync('news/#', { qos: 1 });
    await mqtt.publishAsync('news/mqtt', JSON.stringify('from mqtt'));
    expect(texts(await atMate!.done)).toEqual(['news/mqtt:"from mqtt"']);
    await roundTrip(mate);
    mate.publish('news/mqtt', 'from mate');
    expect((await atMeta.done).map((m) => m.from)).toEqual([undefined, 'mate.acme']);
    await roundTrip(plain, mate, spy);
    expect([atPlain!.values, atSpy!.values]).toEqual([[], []]);
    plain.publish('news/plain', 'default only');
    spy.publish('news/beta', 'beta only');
    await roundTrip(plain, spy);
    mate.publish('news/acme', 'for mqtt');
    await waitFor(() => out.some((o) => o.startsWith('news/acme:')), { what: 'acme\'s publish on MQTT' });
    await roundTrip(mate);
    expect(out.filter((o) => !o.startsWith('news/mqtt:'))).toEqual(['news/acme:"for mqtt"']);
  });

  it('refuses a tenant no name can have', async () => {
    const server = scope.track(await mqtt5Broker());
    for (const mqttTenant of ['', '../up', '.acme']) {
      await expect(scope.broker({ mqtt: server.url, mqttTenant, security: security() })).rejects.toBeInstanceOf(InvalidOptionError);
    }
  });

  it('takes the tenant from --mqtt-tenant, and refuses a bad one before it starts (CLI)', async () => {
    const child = spawn(process.execPath, [MAIN, 'broker', '--port', '0', '--no-persist', '--mqtt', 'mqtt://127.0.0.1:1',
      '--mqtt-tenant', 'a/b'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const code = await new Promise<number | null>((done) => child.once('close', done));
    expect(stderr).toMatch(/invalid option mqttTenant: "a\/b" is not a tenant/u);
    expect(code).not.toBe(0);
  }, 20_000);
});
