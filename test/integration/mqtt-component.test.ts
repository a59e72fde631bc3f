/**
 * `mqttComponent` on a real MQTT 5 broker over TCP on 127.0.0.1: the MQTT 5 test broker always,
 * Mosquitto too when installed (see mqtt-helpers.ts); Aedes 1.x only to show it is refused.
 */
import { Tag } from 'cbor-x';
import { firstValueFrom, of, type Subscription } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  ConnectionClosedError, ConnectionError, EncodeError, InvalidTopicError, MethodNotFoundError, RpcError,
  RpcTimeoutError,
} from '../../src/errors.js';
import { mqttComponent } from '../../src/mqtt/index.js';
import type { Status } from '../../src/types.js';
import { collect, waitFor } from './helpers.js';
import {
  aedesBroker, MOSQUITTO, mosquittoBroker, mqtt5Broker, recordingLogger, settle, useMqttScope, type TestBroker,
} from './mqtt-helpers.js';

const brokers: { name: string; start: () => Promise<TestBroker> }[] = [
  { name: 'the MQTT 5 test broker', start: () => mqtt5Broker() },
  ...(MOSQUITTO === undefined ? [] : [{ name: 'Mosquitto', start: mosquittoBroker }]),
];

describe('mqttComponent', () => {
  const scope = useMqttScope();

  describe.each(brokers)('on $name', ({ start }) => {
    const pair = async (): Promise<[ReturnType<typeof mqttComponent>, ReturnType<typeof mqttComponent>]> => {
      const b = scope.broker(await start());
      return Promise.all([scope.connect(b, 'pub'), scope.connect(b, 'sub')]);
    };

    describe('Pub/Sub', () => {
      it('delivers the arguments of a publish, big integers exact, when both are connected', async () => {
        const [pub, sub] = await pair();
        const got = collect(sub.subscribe$('plant/7/telemetry'), 4);
        await settle(sub);
        const big = 12345678901234567890n;
        pub.publish('plant/7/telemetry', 'text', 42, -1.5, true, null, { k: [1, 'x'] }, big, -big);
        pub.publish('plant/7/telemetry', { value: 42 });
        pub.publish('plant/7/telemetry');
        pub.publish('plant/7/telemetry', [1, 2]);
        const [many, one, none, array] = await got.done;
        expect(many).toEqual({ topic: 'plant/7/telemetry', pattern: 'plant/7/telemetry', qos: 0,
          args: ['text', 42, -1.5, true, null, { k: [1, 'x'] }, big, -big] });
        expect(many!.args[6]).toBe(big);
        expect(one!.args).toEqual([{ value: 42 }]);
        expect(none!.args).toEqual([]);
        expect(array!.args).toEqual([1, 2]); // a single array argument arrives spread (spec §9, PY)
      });

      it('sends bytes as base64 text when an argument is a Uint8Array', async () => {
        const [pub, sub] = await pair();
        const got = collect(sub.subscribe$('blob'), 1);
        await settle(sub);
        pub.publish('blob', new Uint8Array([1, 2, 255]), Buffer.from('hi'));
        expect((await got.done)[0]!.args).toEqual(['AQL/', 'aGk=']);
      });

      it('never delivers a publish back to its publisher when both subscribe (No Local)', async () => {
        const [pub, sub] = await pair();
        const own = collect(pub.subscribe$('room/*'), 0);
        const theirs = collect(sub.subscribe$('room/*'), 1);
        await settle(pub, sub);
        pub.publish('room/1', 'hi');
        await theirs.done;
        await settle(pub, sub);
        expect(own.values).toEqual([]);
        own.unsubscribe();
      });

      it('matches a/*/c as Rembus does when MQTT a/+/c delivers more', async () => {
        const [pub, sub] = await pair();
        const got = collect(sub.subscribe$('a/*/c'), 2);
        await settle(sub);
        for (const t of ['a/b/c', 'a//c', 'a/@b/c', 'a/b/x/c', 'a/b', 'a/bb/c']) pub.publish(t, t);
        await got.done;
        await settle(pub, sub);
        expect(got.values.map((m) => [m.topic, m.pattern, m.args[0]])).toEqual([
          ['a/b/c', 'a/*/c', 'a/b/c'], ['a/bb/c', 'a/*/c', 'a/bb/c']]);
      });

      it('matches a/** below a and not a itself when MQTT a/# delivers both', async () => {
        const [pub, sub] = await pair();
        const got = collect(sub.subscribe$('a/**'), 2);
        await settle(sub);
        for (const t of ['a', 'a/b', 'b/a', 'a/@x', 'a/b/c']) pub.publish(t, t);
        await got.done;
        await settle(pub, sub);
        expect(got.values.map((m) => m.topic)).toEqual(['a/b', 'a/b/c']);
      });

      it('delivers **/telemetry through a broad # subscription filtered locally', async () => {
        const [pub, sub] = await pair();
        const got = collect(sub.subscribe$('**/telemetry'), 2);
        const all = collect(sub.subscribe$('**'), 4); // shares the MQTT filter '#'
        await settle(sub);
        for (const t of ['x/y/telemetry', 'telemetry', 'x/telemetry/more', 'x/@y/telemetry', 'p/telemetry']) {
          pub.publish(t, t);
        }
        pub.publish('a/@b/telemetry', 1);
        await Promise.all([got.done, all.done]);
        await settle(pub, sub);
        expect(got.values.map((m) => m.topic)).toEqual(['x/y/telemetry', 'p/telemetry']);
        // '**' rejects only what captures a verbatim chunk; RPC traffic (settle) never shows up.
        expect(all.values.map((m) => m.topic)).toEqual(['x/y/telemetry', 'telemetry', 'x/telemetry/more', 'p/telemetry']);
        all.unsubscribe();
      });

      it('delivers every topic with its own name to the catch-all *', async () => {
        const [pub, sub] = await pair();
        const got = collect(sub.subscribe$('*'), 2);
        await settle(sub);
        pub.publish('one', 1);
        pub.publish('a/b', 2);
        expect((await got.done).map((m) => [m.topic, m.pattern, m.args])).toEqual([['one', '*', [1]], ['a/b', '*', [2]]]);
      });

      it('decodes a raw MQTT client JSON payload, spreads arrays, drops invalid JSON (spec §9 inbound)', async () => {
        const b = scope.broker(await start());
        const log = recordingLogger();
        const sub = await scope.connect(b, 'sub', { logger: log });
        const raw = await scope.raw(b);
        const exact = collect(sub.subscribe$('mqtt_topic'), 2);
        const alarm = collect(sub.subscribe$('*/alarm'), 1);
        await settle(sub);
        raw.publish('mqtt_topic', '{"name":"rembus","value":42}');
        raw.publish('mqtt_topic', 'not json');
        raw.publish('mqtt_topic', '7');
        raw.publish('home/alarm', '[1,2]');
        expect((await exact.done).map((m) => m.args)).toEqual([[{ name: 'rembus', value: 42 }], [7]]);
        expect((await alarm.done)[0]).toEqual({ topic: 'home/alarm', args: [1, 2], pattern: '*/alarm', qos: 0 });
        expect(exact.error).toBeUndefined();
        expect(log.entries.filter((e) => e.level === 'warn').map((e) => e.msg)).toEqual([
          'MQTT message dropped: payload is not JSON']);
      });

      it('publishes spec §9 JSON that a raw MQTT client reads', async () => {
        const b = scope.broker(await start());
        const pub = await scope.connect(b, 'pub');
        const raw = await scope.raw(b);
        await raw.subscribeAsync('out/#');
        const seen: [string, string][] = [];
        raw.on('message', (topic, payload) => seen.push([topic, payload.toString()]));
        pub.publish('out/one', { value: 42 });
        pub.publish('out/many', 1, 2);
        pub.publish('out/none');
        pub.publish('out/big', 2n ** 70n);
        await waitFor(() => seen.length === 4, { what: '4 MQTT messages' });
        expect(seen).toEqual([['out/one', '{"value":42}'], ['out/many', '[1,2]'], ['out/none', '[]'],
          ['out/big', '1180591620717411303424']]);
      });

      it('completes publish$ with QoS 1 on the broker acknowledgement', async () => {
        const [pub, sub] = await pair();
        const got = collect(sub.subscribe$('q/1'), 1);
        await settle(sub);
        await pub.publishAsync('q/1', ['x'], { qos: 1 });
        expect((await got.done)[0]!.args).toEqual(['x']);
      });

      it('holds publishes made before the connection is up and sends them once up', async () => {
        const b = scope.broker(await start());
        const sub = await scope.connect(b, 'sub');
        const got = collect(sub.subscribe$('early/*'), 2);
        await settle(sub);
        const pub = scope.component(b, 'pub');
        pub.publish('early/1', 1);
        pub.publish('early/2', 2);
        expect((await got.done).map((m) => m.args)).toEqual([[1], [2]]);
      });
    });

    describe('RPC', () => {
      it('returns the result of an exposed method, for value, Promise and Observable handlers', async () => {
        const [caller, exposer] = await pair();
        const big = 2n ** 64n + 1n;
        exposer.expose('add', (a: number, b: number) => a + b);
        exposer.expose('echo', async (...args: unknown[]) => args);
        exposer.expose('last', (x: unknown) => of('ignored', x));
        await settle(exposer);
        expect(await caller.rpc('add', 1, 2)).toBe(3);
        expect(await caller.rpc('echo', { a: [1] }, big, 'x')).toEqual([{ a: [1] }, big, 'x']);
        expect(await caller.rpc('echo')).toEqual([]);
        expect(await caller.rpc('last', 'one')).toBe('one'); // an Observable's last value answers
        expect(await exposer.rpc('add', 2, 3)).toBe(5); // an exposer may call itself
      });

      it('fails with RpcError 40 and the error text when the handler throws', async () => {
        const [caller, exposer] = await pair();
        exposer.expose('boom', () => { throw new Error('it broke'); });
        await settle(exposer);
        const err = await caller.rpc('boom').catch((e: unknown) => e);
        expect(err).toBeInstanceOf(RpcError);
        expect(err).toMatchObject({ method: 'boom', remoteCode: 40, details: 'it broke' });
      });

      it('serves a direct call and fails with MethodNotFoundError when the target lacks the method', async () => {
        const [caller, exposer] = await pair();
        exposer.expose('whoami', () => 'sub');
        await settle(exposer);
        expect(await caller.call('whoami', [], { target: 'sub' })).toBe('sub');
        const err = await caller.call('nope', [], { target: 'sub' }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(MethodNotFoundError);
        expect(err).toMatchObject({ method: 'nope' });
      });

      it('times out when no component exposes the method (MQTT cannot tell)', async () => {
        const [caller] = await pair();
        const err = await caller.call('nobody', [], { timeout: 200 }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(RpcTimeoutError);
        expect(err).toMatchObject({ method: 'nobody', timeoutMs: 200 });
      });

      it('answers each call once when several exposers share the method', async () => {
        const b = scope.broker(await start());
        const [caller, e1, e2] = await Promise.all(['caller', 'e1', 'e2'].map((n) => scope.connect(b, n)));
        const served = { e1: 0, e2: 0 };
        e1!.expose('work', () => ++served.e1 && 'e1');
        e2!.expose('work', () => ++served.e2 && 'e2');
        await settle(e1!, e2!);
        const results = await Promise.all(Array.from({ length: 20 }, () => caller!.rpc('work')));
        await settle(e1!, e2!, caller!);
        expect(results).toHaveLength(20);
        expect(served.e1 + served.e2).toBe(20);
        expect(results.filter((r) => r === 'e1')).toHaveLength(served.e1);
      });

      it('serves a plain MQTT 5 request/response client on rembus/rpc/<method>', async () => {
        const b = scope.broker(await start());
        const exposer = await scope.connect(b, 'exposer');
        exposer.expose('add', (x: number, y: number) => x + y);
        await settle(exposer);
        const raw = await scope.raw(b);
        await raw.subscribeAsync('my/replies');
        const reply = new Promise<[string, string | undefined]>((resolve) => {
          raw.on('message', (_topic, payload, packet) =>
            resolve([payload.toString(), packet.properties?.correlationData?.toString()]));
        });
        raw.publish('rembus/rpc/add', '[1,2]',
          { properties: { responseTopic: 'my/replies', correlationData: Buffer.from('abc') } });
        expect(await reply).toEqual(['{"sts":0,"data":3}', 'abc']);
      });

      it('drops the pending call when rpc$ is unsubscribed, so the late response is ignored', async () => {
        const b = scope.broker(await start());
        const log = recordingLogger();
        const caller = await scope.connect(b, 'caller', { logger: log });
        const exposer = await scope.connect(b, 'exposer');
        let started!: () => void;
        const running = new Promise<void>((resolve) => { started = resolve; });
        let release!: (v: string) => void;
        exposer.expose('slow', () => {
          started();
          return new Promise<string>((resolve) => { release = resolve; });
        });
        await settle(exposer);
        const events: string[] = [];
        const call: Subscription = caller.rpc$('slow').subscribe({
          next: () => events.push('next'), error: () => events.push('error'), complete: () => events.push('complete'),
        });
        await running;
        call.unsubscribe();
        release('late');
        await new Promise((resolve) => setImmediate(resolve));
        await settle(exposer, caller);
        expect(events).toEqual([]);
        expect(log.entries.map((e) => e.msg)).toContain('response to no pending call dropped');
      });
    });
  });

  describe('on the MQTT 5 test broker', () => {
    it('makes one MQTT subscription per filter, refcounted across subscribers and patterns', async () => {
      const b = scope.broker(await mqtt5Broker());
      const c = await scope.connect(b, 'c');
      const seen = (filter: string): string[] =>
        b.events.filter((e) => e.clientId === 'c' && e.filter === filter).map((e) => e.type);
      const subs = [c.subscribe$('a/*/c'), c.subscribe$('a/*/c'), c.subscribe$('a/x*/c'),
        c.subscribe$('**/telemetry'), c.subscribe$('**')].map((s) => s.subscribe());
      await settle(c);
      expect([seen('a/+/c'), seen('#')]).toEqual([['subscribe'], ['subscribe']]);
      for (const i of [0, 2, 3]) subs[i]!.unsubscribe();
      await settle(c);
      expect([seen('a/+/c'), seen('#')]).toEqual([['subscribe'], ['subscribe']]);
      for (const i of [1, 4]) subs[i]!.unsubscribe();
      await settle(c);
      expect([seen('a/+/c'), seen('#')]).toEqual([['subscribe', 'unsubscribe'], ['subscribe', 'unsubscribe']]);
    });

    it('subscribes exposers as $share/rembus/rembus/rpc/<method> and unsubscribes on unexpose', async () => {
      const b = scope.broker(await mqtt5Broker());
      const [caller, c] = await Promise.all([scope.connect(b, 'caller'), scope.connect(b, 'c')]);
      const unexpose = c.expose('m', () => 1);
      await settle(c);
      expect(await caller.rpc('m')).toBe(1);
      unexpose();
      await settle(c);
      expect(b.events.filter((e) => e.clientId === 'c').map((e) => `${e.type} ${e.filter}`)).toEqual([
        'subscribe rembus/reply/c', 'subscribe rembus/direct/c/#',
        'subscribe $share/rembus/rembus/rpc/m', 'unsubscribe $share/rembus/rembus/rpc/m']);
      await expect(caller.call('m', [], { timeout: 100 })).rejects.toBeInstanceOf(RpcTimeoutError);
    });

    it('lets every exposer answer and keeps the first response when shared subscriptions are off', async () => {
      const b = scope.broker(await mqtt5Broker({ sharedSubscriptions: false }));
      const log = recordingLogger();
      const caller = await scope.connect(b, 'caller', { logger: log });
      const [e1, e2] = await Promise.all([scope.connect(b, 'e1'), scope.connect(b, 'e2')]);
      const served = { e1: 0, e2: 0 };
      e1.expose('work', () => ++served.e1);
      e2.expose('work', () => ++served.e2);
      await settle(e1, e2);
      const results = await Promise.all(Array.from({ length: 5 }, () => caller.rpc('work')));
      await settle(e1, e2, caller);
      expect(results).toHaveLength(5);
      expect(served).toEqual({ e1: 5, e2: 5 });
      expect(log.entries.filter((e) => e.msg === 'response to no pending call dropped')).toHaveLength(5);
      expect(b.events.some((e) => e.filter === 'rembus/rpc/work')).toBe(true);
    });

    it('routes by filter when the broker sends no subscription identifiers', async () => {
      const b = scope.broker(await mqtt5Broker({ subscriptionIdentifiers: false }));
      const [pub, sub] = await Promise.all([scope.connect(b, 'pub'), scope.connect(b, 'sub')]);
      const wild = collect(sub.subscribe$('a/*'), 1);
      const exact = collect(sub.subscribe$('b/c'), 1);
      sub.expose('m', () => 'ok');
      await settle(sub);
      pub.publish('a/1', 1);
      pub.publish('b/c', 2);
      expect([(await wild.done)[0]!.args, (await exact.done)[0]!.args]).toEqual([[1], [2]]);
      expect(await pub.rpc('m')).toBe('ok');
    });

    it('reports down, reconnecting and up when the broker restarts, then works again', async () => {
      const b1 = scope.broker(await mqtt5Broker());
      const options = { reconnectPeriod: 50 };
      const [pub, sub] = await Promise.all([scope.connect(b1, 'pub', options), scope.connect(b1, 'sub', options)]);
      const statuses: Status[] = [];
      sub.status$.subscribe((s) => statuses.push(s));
      const got = collect(sub.subscribe$('t/*'), 2);
      sub.expose('m', () => 'ok');
      sub.expose('hang', () => new Promise(() => undefined));
      await settle(sub);
      pub.publish('t/1', 1);
      await waitFor(() => got.values.length === 1, { what: 't/1' });
      const hanging = pub.rpc('hang').catch((err: unknown) => err);
      await settle(sub); // the request reached the exposer
      await b1.close();
      expect(await hanging).toBeInstanceOf(ConnectionClosedError);
      await waitFor(() => statuses.some((s) => s.type === 'reconnecting'), { what: 'reconnecting' });
      const b2 = scope.broker(await mqtt5Broker({ port: b1.port }));
      await waitFor(() => statuses.at(-1)?.type === 'up', { what: 'sub up again' });
      await waitFor(() => b2.events.some((e) => e.clientId === 'pub'), { what: 'pub back' });
      await settle(pub, sub);
      const types = statuses.map((s) => s.type);
      expect(types.slice(0, 3)).toEqual(['up', 'down', 'reconnecting']);
      expect(types.slice(3, -1).every((t) => t === 'reconnecting')).toBe(true);
      expect(types.at(-1)).toBe('up');
      expect(statuses[2]).toMatchObject({ attempt: 1, delayMs: 50 });
      pub.publish('t/2', 2);
      expect((await got.done).map((m) => m.topic)).toEqual(['t/1', 't/2']);
      expect(await pub.rpc('m')).toBe('ok');
      expect(b2.events.filter((e) => e.clientId === 'sub').map((e) => e.filter).sort()).toEqual([
        '$share/rembus/rembus/rpc/hang', '$share/rembus/rembus/rpc/m', 'rembus/direct/sub/#', 'rembus/reply/sub', 't/+']);
    });

    it('closes idempotently: status$ and streams complete, pending calls fail, new work is refused', async () => {
      const b = scope.broker(await mqtt5Broker());
      const [c, e] = await Promise.all([scope.connect(b, 'c'), scope.connect(b, 'e')]);
      e.expose('hang', () => new Promise(() => undefined));
      await settle(e);
      const statuses: Status[] = [];
      let statusDone = false;
      c.status$.subscribe({ next: (s) => statuses.push(s), complete: () => { statusDone = true; } });
      const stream = collect(c.subscribe$('t'), 0);
      const pending = c.rpc('hang').catch((err: unknown) => err);
      await Promise.all([c.close(), c.close()]);
      await c.close();
      await c[Symbol.asyncDispose]();
      expect(statuses.map((s) => s.type)).toEqual(['up', 'closed']);
      expect(statusDone).toBe(true);
      expect(stream.completed).toBe(true);
      expect(await pending).toBeInstanceOf(ConnectionClosedError);
      expect(() => c.publish('t', 1)).toThrow(ConnectionClosedError);
      await expect(c.rpc('hang')).rejects.toBeInstanceOf(ConnectionClosedError);
      await expect(firstValueFrom(c.subscribe$('t'))).rejects.toBeInstanceOf(ConnectionClosedError);
      await expect(c.publishAsync('t', [1], { qos: 1 })).rejects.toBeInstanceOf(ConnectionClosedError);
    });

    it('closes cleanly before the first connection is up', async () => {
      const b = scope.broker(await mqtt5Broker());
      const c = scope.component(b, 'c');
      c.publish('t', 1);
      await c.close();
      await expect(c.ready()).rejects.toBeInstanceOf(ConnectionClosedError);
    });

    it('refuses what MQTT cannot carry: URLs, names, + and #, RPC subtrees, DataFrames', async () => {
      const b = scope.broker(await mqtt5Broker());
      expect(() => mqttComponent('ws://127.0.0.1:8338/x')).toThrow(InvalidTopicError);
      expect(() => mqttComponent(`${b.url}/a+b`)).toThrow(InvalidTopicError);
      const c = scope.component(b, 'c');
      expect(() => c.publish('a/#', 1)).toThrow(InvalidTopicError);
      expect(() => c.publish('rembus/rpc/add', 1)).toThrow(InvalidTopicError);
      expect(() => c.subscribe$('a/+')).toThrow(InvalidTopicError);
      expect(() => c.subscribe$('rembus/reply/*')).toThrow(InvalidTopicError);
      expect(() => c.expose('a/#', () => 1)).toThrow(InvalidTopicError);
      expect(() => c.publish('t', new Tag(new Uint8Array(1), 80))).toThrow(EncodeError);
      await expect(c.rpc('m', new Tag(new Uint8Array(1), 80))).rejects.toBeInstanceOf(EncodeError);
    });
  });

  describe('on Aedes 1.x (MQTT 3.1.1 only)', () => {
    it('stops with ConnectionError when the broker refuses MQTT 5', async () => {
      const b = scope.broker(await aedesBroker());
      const c = scope.component(b, 'c', { reconnectPeriod: 50 });
      const statuses: Status[] = [];
      c.status$.subscribe((s) => statuses.push(s));
      const err = await c.ready().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectionError);
      expect((err as Error).message).toMatch(/MQTT 5/);
      expect(statuses.map((s) => s.type)).toEqual(['connecting', 'down']);
    });
  });
});
