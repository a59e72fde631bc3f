/**
 * Typed contracts on an MQTT component (no Rembus broker): the same checks on both ends, through
 * the deferred `component('mqtt://…')` and the MQTT implementation.
 */
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { component, ContractValidationError, method, topic, type InvalidValue } from '../../src/index.js';
import { collect } from './helpers.js';
import { mqtt5Broker, settle, useMqttScope } from './mqtt-helpers.js';

const telemetry = topic('plant/:site/telemetry', z.object({ temp: z.number() }));
const add = method('add', [z.number(), z.number()], z.number());

describe('contracts over MQTT', () => {
  const scope = useMqttScope();

  it('checks publishes and calls on both ends; wrong types never delivered', async () => {
    const b = scope.broker(await mqtt5Broker());
    const sub = await scope.connect(b, 'sub');
    const pub = component(`${b.url}/pub`);
    try {
      const invalid: InvalidValue[] = [];
      sub.invalid$.subscribe((x) => invalid.push(x));
      const got = collect(sub.subscribe$(telemetry), 1);
      sub.expose(add, (a, c) => a + c);
      await pub.ready();
      await settle(sub, pub);
      expect(() => pub.publish(telemetry, { site: 'a' }, { temp: 'x' } as never)).toThrow(ContractValidationError);
      pub.publish('plant/a/telemetry', { temp: 'x' });
      pub.publish(telemetry, { site: 'a' }, { temp: 3 });
      expect((await got.done)[0]).toMatchObject({ params: { site: 'a' }, value: { temp: 3 } });
      expect(invalid.map((x) => x.stage)).toEqual(['receive']);
      expect(await pub.rpc(add, 2, 3)).toBe(5);
      await expect(pub.rpc('add', 2, 'x')).rejects.toMatchObject({ remoteCode: 40 });
      expect(invalid.map((x) => x.stage)).toEqual(['receive', 'args']);
      got.unsubscribe();
    } finally {
      await pub.close();
    }
  });
});
