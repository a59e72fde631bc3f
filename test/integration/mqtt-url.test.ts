/** `component('mqtt://…')` and `connect('mqtt://…')` give the Component API over MQTT 5. */
import { describe, expect, it } from 'vitest';
import { component, connect } from '../../src/index.js';
import { collect } from './helpers.js';
import { mqtt5Broker } from './mqtt-helpers.js';

describe("component('mqtt://…')", () => {
  it('publishes, subscribes and calls through an MQTT 5 broker with the same API', async () => {
    const broker = await mqtt5Broker();
    const url = `mqtt://127.0.0.1:${broker.port}`;
    const server = component(`${url}/server`);   // usable at once, before mqtt.js has loaded
    server.expose('add', (a: number, b: number) => a + b);
    const client = await connect(`${url}/client`);
    try {
      expect(server.name).toBe('server');
      await server.ready();
      const got = collect(client.subscribe$('plant/*/telemetry'), 1);
      await new Promise((r) => setTimeout(r, 100));
      server.publish('plant/a/telemetry', { t: 21 });
      expect((await got.done)[0]!.args).toEqual([{ t: 21 }]);
      expect(await client.rpc('add', 2, 3)).toBe(5);
    } finally {
      await client.close();
      await server.close();
      await broker.close();
    }
  });
});
