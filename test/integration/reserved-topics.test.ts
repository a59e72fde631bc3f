/**
 * Topics only the broker publishes on (README "Streaming RPC on the wire", presence: "the broker
 * publishes to exact subscribers of `component_info`"; "Metrics": "the reserved topic
 * `__broker__/stats`"): a component — over WebSocket, REST or JSON-RPC — that publishes there is
 * dropped, so it cannot make `presence$()`/`whenAvailable$()` announce a component that is not
 * there, or feed a dashboard forged figures; the broker's own events still flow.
 */
import { connect as mqttConnect } from 'mqtt';
import { filter, firstValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/index.js';
import { STATS_TOPIC } from '../../src/broker/index.js';
import { UnauthorizedError, type Message } from '../../src/index.js';
import { collect, rejection, roundTrip, useScope, waitFor } from './helpers.js';
import { http } from './http-request.js';
import { aedesBroker } from './mqtt-helpers.js';

const scope = useScope();

const post = async (b: Broker, path: string, body: unknown): Promise<number> => (await http(b, 'POST', path, body)).status;

const fake = { event: 'connection_up', cid: 'bank', exposes: ['pay'] };

describe('reserved topics', () => {
  it('drops a component_info event forged by a component, over WebSocket, REST and JSON-RPC', async () => {
    const b = await scope.broker({ http: { statsInterval: 0 } });
    const [watcher, forger] = await scope.connectAll(b, 'watcher', 'forger');
    const info = collect(watcher.subscribe$('component_info'), 1, { what: 'presence events' });
    const presence: string[][] = [];
    watcher.presence$().subscribe((p) => presence.push(p.map((c) => c.cid).sort()));
    const available = collect(watcher.whenAvailable$('pay'), 1, { what: 'pay to be available' });
    await roundTrip(watcher);

    forger.publish('component_info', fake);
    const err = await rejection(forger.publishAsync('component_info', [fake], { qos: 1 }), UnauthorizedError);
    expect(err.code).toBe('UNAUTHORIZED');
    expect(await post(b, '/component_info', [fake])).toBe(200);
    expect(await post(b, '/', { jsonrpc: '2.0', method: 'component_info', params: [fake] })).toBe(204);
    await roundTrip(forger, watcher);
    expect(info.values).toEqual([]);
    expect(presence.flat()).not.toContain('bank');

    // The broker's own events still arrive: a real exposer of pay.
    const bank = await scope.connect(b, 'bank');
    bank.expose('pay', () => 'paid');
    const [event] = await info.done;
    expect((event as Message<[{ cid: string }]>).args[0].cid).toBe('bank');
    await available.done;
    await waitFor(() => presence.at(-1)?.includes('bank') === true, { what: 'bank in presence$' });
  });

  it('drops a stats snapshot forged by a component; the broker\'s own keep coming', async () => {
    const b = await scope.broker({ http: { statsInterval: 20 } });
    const [watcher, forger] = await scope.connectAll(b, 'watcher', 'forger');
    const stats = collect(watcher.subscribe$<[{ broker: string }]>(STATS_TOPIC), 3, { what: 'stats snapshots' });
    await roundTrip(watcher);
    forger.publish(STATS_TOPIC, { broker: 'forged', stats: { connections: 999 } });
    expect(await post(b, `/${STATS_TOPIC}`, [{ broker: 'forged' }])).toBe(200);
    await roundTrip(forger);
    const snaps = await stats.done;
    expect(snaps.map((m) => m.args[0].broker)).toEqual([b.name, b.name, b.name]);
    await roundTrip(watcher);
    expect(stats.values.map((m) => m.args[0].broker)).not.toContain('forged');
  });

  it('drops a component_info event that arrives over the MQTT bridge', async () => {
    const { url } = scope.track(await aedesBroker());
    const b = await scope.broker({ mqtt: url, http: { statsInterval: 0 } });
    await firstValueFrom(b.links$.pipe(filter((links) => links.length > 0 && links.every((l) => l.status.type === 'up'))));
    const watcher = await scope.connect(b, 'watcher');
    const info = collect(watcher.subscribe$('component_info'), 1, { what: 'presence events' });
    const open = collect(watcher.subscribe$('open'), 1, { what: 'the publish after the forged one' });
    await roundTrip(watcher);
    const client = mqttConnect(url, { protocolVersion: 4, reconnectPeriod: 0 });
    scope.track({ close: () => client.endAsync() });
    await new Promise<void>((resolve, reject) => { client.once('connect', () => resolve()); client.once('error', reject); });
    await client.publishAsync('component_info', JSON.stringify(fake), { qos: 1 });
    await client.publishAsync('open', '"after"', { qos: 1 });
    await open.done; // injected in order after the forged event
    await roundTrip(watcher);
    expect(info.values).toEqual([]);
  });
});
