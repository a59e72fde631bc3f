/**
 * RPC across the broker's MQTT bridge (issue 17 item 6), both ways, between a ws:// component
 * of the Rembus broker and an mqtt:// component on the MQTT side: against the in-process MQTT 5
 * test broker and Mosquitto when installed.
 */
import { filter, firstValueFrom, timeout } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/index.js';
import { MethodNotFoundError, RpcError, RpcTimeoutError, type Component } from '../../src/index.js';
import { mqttComponent } from '../../src/mqtt/index.js';
import { memorySecurityStore } from '../../src/security/index.js';
import { roundTrip, untilResolved, useScope } from './helpers.js';
import { MOSQUITTO, mosquittoBroker, mqtt5Broker, type TestBroker } from './mqtt-helpers.js';

const scope = useScope();

function linksUp(b: Broker, ms = 5_000): Promise<unknown> {
  return firstValueFrom(b.links$.pipe(filter((links) => links.length > 0 && links.every((l) => l.status.type === 'up')),
    timeout(ms)));
}

/** A Rembus broker bridged to `mqtt`, a ws component on it and an mqtt component on `mqtt`. */
async function bridged(mqtt: TestBroker, methods: string[], options: { private?: string[] } = {}):
  Promise<{ b: Broker; ws: Component; overMqtt: Component }> {
  const security = options.private === undefined ? undefined
    : memorySecurityStore({ topicAuth: Object.fromEntries(options.private.map((t) => [t, []])) });
  const b = await scope.broker({ mqtt: mqtt.url, mqttMethods: methods, ...(security === undefined ? {} : { security }) });
  await linksUp(b);
  const ws = await scope.connect(b, 'ws-side');
  const overMqtt = scope.track(mqttComponent(`${mqtt.url}/mqtt-side`, { requestTimeout: 3_000 }));
  await overMqtt.ready();
  return { b, ws, overMqtt };
}

/** Call until the MQTT SUBSCRIBEs (which have no round trip to wait on) are in place. */
const eventually = <T>(call: () => Promise<T>): Promise<T> => untilResolved(call);

function rpcSuite(start: () => Promise<TestBroker>): void {
  it('lets a Rembus component call a method of an MQTT component', async () => {
    const { ws, overMqtt } = await bridged(await start(), ['mqtt_add', 'mqtt_fail']);
    overMqtt.expose('mqtt_add', (a: number, c: number) => a + c);
    overMqtt.expose('mqtt_fail', () => { throw new Error('boom'); });
    expect(await eventually(() => ws.call('mqtt_add', [2, 3], { timeout: 1_000 }))).toBe(5);
    expect(await ws.rpc('mqtt_add', 40, 2)).toBe(42);
    const err = await ws.rpc('mqtt_fail').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RpcError);
    expect(err).toMatchObject({ remoteCode: 40 });
    expect(String((err as RpcError).details)).toMatch(/boom/);
  });

  it('lets an MQTT component call a method of a Rembus component, plainly and by target', async () => {
    const { ws, overMqtt } = await bridged(await start(), []);
    ws.expose('ws_mul', (a: number, c: number) => a * c);
    ws.expose('ws_fail', () => { throw new Error('nope'); });
    await roundTrip(ws);
    expect(await eventually(() => overMqtt.call('ws_mul', [3, 4], { timeout: 1_000 }))).toBe(12);
    expect(await overMqtt.call('ws_mul', [5, 6], { target: 'ws-side' })).toBe(30);
    const err = await overMqtt.call('ws_fail', []).catch((e: unknown) => e);
    expect(err).toMatchObject({ remoteCode: 40 });
  });

  it('leaves a method the Rembus side does not serve to the MQTT exposers (no 42 race)', async () => {
    const mqtt = await start();
    const { ws, overMqtt } = await bridged(mqtt, []);
    const other = scope.track(mqttComponent(`${mqtt.url}/mqtt-other`, { requestTimeout: 3_000 }));
    await other.ready();
    other.expose('only_mqtt', () => 'from mqtt');
    await roundTrip(ws);
    expect(await eventually(() => overMqtt.call('only_mqtt', [], { timeout: 1_000 }))).toBe('from mqtt');
    for (let i = 0; i < 5; i++) expect(await overMqtt.rpc('only_mqtt')).toBe('from mqtt');
    // Served nowhere: the bridge does not answer 42 for the MQTT side, the caller times out.
    await expect(overMqtt.call('nowhere', [], { timeout: 500 })).rejects.toBeInstanceOf(RpcTimeoutError);
    // A Rembus caller of a method not imported from MQTT still gets 42 at once.
    await expect(ws.rpc('only_mqtt')).rejects.toBeInstanceOf(MethodNotFoundError);
  });

  it('fails a call to MQTT at once with 40 while the MQTT link is down (not by the caller timeout)', async () => {
    const mqtt = await start();
    const { b, ws, overMqtt } = await bridged(mqtt, ['mqtt_echo']);
    overMqtt.expose('mqtt_echo', (s: string) => s);
    expect(await eventually(() => ws.call('mqtt_echo', ['up'], { timeout: 1_000 }))).toBe('up');
    await mqtt.close();
    await firstValueFrom(b.links$.pipe(filter((links) => links[0]?.status.type !== 'up'), timeout(10_000)));
    // The caller would wait 60 s: an RpcError 40 (not an RpcTimeoutError) proves the bridge answered.
    const err = await ws.call('mqtt_echo', ['down'], { timeout: 60_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RpcError);
    expect(err).toMatchObject({ remoteCode: 40 });
    expect(String((err as RpcError).details)).toMatch(/MQTT link down/);
  });

  it('does not let MQTT callers reach a private method', async () => {
    const { ws, overMqtt } = await bridged(await start(), [], { private: ['secret'] });
    ws.expose('secret', () => 'classified');
    ws.expose('open', () => 'public');
    await roundTrip(ws);
    expect(await eventually(() => overMqtt.call('open', [], { timeout: 1_000 }))).toBe('public');
    const err = await overMqtt.call('secret', [], { timeout: 1_000 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ remoteCode: 10 });
  });
}

describe('rpc across the mqtt bridge (in-process MQTT 5 test broker)', () => {
  rpcSuite(async () => scope.track(await mqtt5Broker()));
});

// Skipped only where no mosquitto binary exists; the in-process MQTT 5 broker above covers the same suite.
describe.skipIf(MOSQUITTO === undefined)('rpc across the mqtt bridge (Mosquitto, MQTT 5)', () => {
  rpcSuite(async () => scope.track(await mosquittoBroker()));
});
