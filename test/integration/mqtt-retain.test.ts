/**
 * Retained values and expiry across MQTT, against Mosquitto (MQTT 5): the broker's MQTT bridge
 * maps `retain` to MQTT's retain flag (an empty retained publish to the empty payload that
 * clears) and `ttl` to the Message Expiry Interval, both ways; an `mqtt://` component does the
 * same for its own publishes and marks what Mosquitto sends as retained.
 */
import { filter, firstValueFrom, timeout } from 'rxjs';
import type { IPublishPacket, MqttClient } from 'mqtt';
import { connect as mqttConnect } from 'mqtt';
import { describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/index.js';
import { mqttComponent } from '../../src/mqtt/index.js';
import { collect, roundTrip, useScope, waitFor } from './helpers.js';
import { MOSQUITTO, mosquittoBroker } from './mqtt-helpers.js';

const scope = useScope();

interface Got { topic: string; payload: string; retain: boolean; expiry: number | undefined }

/** A raw MQTT 5 client subscribed to `filter`, recording what arrives (retained values first). */
async function mqttSubscriber(url: string, mqttFilter: string): Promise<{ client: MqttClient; got: Got[] }> {
  const client = mqttConnect(url, { protocolVersion: 5, reconnectPeriod: 0 });
  scope.track({ close: () => client.endAsync() });
  await new Promise<void>((resolve, reject) => { client.once('connect', () => resolve()); client.once('error', reject); });
  const got: Got[] = [];
  client.on('message', (topic, payload, packet: IPublishPacket) => got.push({
    topic, payload: payload.toString('utf8'), retain: packet.retain, expiry: packet.properties?.messageExpiryInterval,
  }));
  await client.subscribeAsync(mqttFilter, { qos: 1 });
  return { client, got };
}

function linksUp(b: Broker): Promise<unknown> {
  return firstValueFrom(b.links$.pipe(filter((l) => l.length > 0 && l.every((x) => x.status.type === 'up')), timeout(5_000)));
}

// Skipped only where no mosquitto binary exists (the machine's /usr/sbin/mosquitto runs it).
describe.skipIf(MOSQUITTO === undefined)('retain and expiry across MQTT (Mosquitto)', () => {
  it('bridges a Rembus retained publish with a ttl as a retained MQTT message with an expiry interval', async () => {
    const mqtt = scope.track(await mosquittoBroker());
    const b = await scope.broker({ mqtt: mqtt.url });
    await linksUp(b);
    const pub = await scope.connect(b, 'pub');
    await pub.publishAsync('site/state', ['ok'], { retain: true, ttl: 60_000, qos: 1 });
    await pub.publishAsync('site/plain', ['not kept'], { qos: 1 });
    // Subscribed after the publish: only Mosquitto's retained copy can arrive.
    const late = await mqttSubscriber(mqtt.url, 'site/#');
    await waitFor(() => late.got.length >= 1, { what: 'the retained MQTT message' });
    expect(late.got).toHaveLength(1);
    expect(late.got[0]).toMatchObject({ topic: 'site/state', payload: '"ok"', retain: true });
    expect(late.got[0]!.expiry).toBeGreaterThan(55);
    expect(late.got[0]!.expiry).toBeLessThanOrEqual(60);
    // An empty retained publish clears it on the MQTT side too.
    await pub.publishAsync('site/state', [], { retain: true, qos: 1 });
    await waitFor(() => late.got.length === 2, { what: 'the clear, live' });
    expect(late.got[1]).toMatchObject({ topic: 'site/state', payload: '' });
    // A new subscriber: Mosquitto sends retained values right after SUBACK, so a live marker
    // arriving first proves none is left.
    const check = await mqttSubscriber(mqtt.url, 'site/#');
    pub.publish('site/marker', 1);
    await waitFor(() => check.got.length >= 1, { what: 'the marker' });
    expect(check.got.map((g) => g.topic)).toEqual(['site/marker']);
  });

  it('bridges an MQTT retained message (and its expiry) into the broker\'s retained values, and its clear', async () => {
    const mqtt = scope.track(await mosquittoBroker());
    const b = await scope.broker({ mqtt: mqtt.url });
    await linksUp(b);
    const accepted: { topic: string; retain?: boolean; expires?: number }[] = [];
    b.messages$.subscribe((m) => accepted.push(m));
    const client = mqttConnect(mqtt.url, { protocolVersion: 5, reconnectPeriod: 0 });
    scope.track({ close: () => client.endAsync() });
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    await client.publishAsync('room/temp', '21', { qos: 1, retain: true, properties: { messageExpiryInterval: 120 } });
    await waitFor(() => accepted.some((m) => m.topic === 'room/temp'), { what: 'the bridged publish' });
    const m = accepted.find((x) => x.topic === 'room/temp')!;
    expect(m.retain).toBe(true);
    expect(m.expires! - Date.now()).toBeGreaterThan(100_000);
    const sub = await scope.connect(b);
    const got = collect(sub.subscribe$('room/temp'), 1);
    expect((await got.done)[0]).toMatchObject({ args: [21], retained: true });
    await client.publishAsync('room/temp', '', { qos: 1, retain: true });
    await waitFor(() => accepted.filter((x) => x.topic === 'room/temp').length === 2, { what: 'the clear' });
    const after = await scope.connect(b);
    const none = collect(after.subscribe$('room/temp'), 0);
    await roundTrip(after);
    expect(none.values).toEqual([]);
  });

  it('maps an mqtt:// component\'s retain and ttl to MQTT, and marks retained values it receives', async () => {
    const mqtt = scope.track(await mosquittoBroker());
    const pub = scope.track(mqttComponent(`${mqtt.url}/mpub`));
    await pub.ready();
    await pub.publishAsync('dev/1', [{ on: true }], { retain: true, ttl: 30_000, qos: 1 });
    const start = Date.now();
    await pub.publishAsync('dev/2', ['brief'], { retain: true, ttl: 1_000, qos: 1 });
    const late = await mqttSubscriber(mqtt.url, 'dev/1');
    await waitFor(() => late.got.length === 1, { what: 'the retained value' });
    expect(late.got[0]).toMatchObject({ payload: '{"on":true}', retain: true });
    expect(late.got[0]!.expiry).toBeLessThanOrEqual(30);
    const sub = scope.track(mqttComponent(`${mqtt.url}/msub`));
    await sub.ready();
    const first = await firstValueFrom(sub.subscribe$('dev/1').pipe(timeout(5_000)));
    expect(first).toMatchObject({ topic: 'dev/1', args: [{ on: true }], retained: true });
    // Expired at Mosquitto: a subscriber after the second has passed gets nothing for dev/2.
    await waitFor(() => Date.now() > start + 2_100, { timeout: 5_000, what: 'the expiry to pass' });
    const expired = await mqttSubscriber(mqtt.url, 'dev/#');
    await waitFor(() => expired.got.length >= 1, { what: 'the retained dev/1' });
    expect(expired.got.map((g) => g.topic)).toEqual(['dev/1']);
  });
});
