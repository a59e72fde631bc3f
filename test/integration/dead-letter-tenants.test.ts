/**
 * Dead letters and tenants (README "Typed contracts" / "Security"): a publish refused by a
 * contract is republished on the broker's dead-letter topic as `{ topic, reason, args }` — the
 * refused value itself. With isolated tenants it is its publisher's, so it reaches (live and on
 * replay) that tenant's dead-letter subscribers only, never another tenant's: a beta component
 * must not read acme's refused args. Real broker on 127.0.0.1 port 0, proven connections.
 */
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { memoryStore, type Broker } from '../../src/broker/index.js';
import { period, topic, type Component, type Message } from '../../src/index.js';
import { AGENT } from '../../src/bridge/federation-protocol.js';
import { memorySecurityStore } from '../../src/security/index.js';
import { collect, roundTrip, useScope } from './helpers.js';

const scope = useScope();
const alarms = topic('alarms/:level', z.object({ text: z.string() }));
const DEAD = 'rembus/invalid';
const NAMES = ['mate.acme', 'ops.acme', 'pub.beta', 'spy.beta', 'late.beta', 'late.acme'];
const secret = (name: string): string => `${name} secret`;

function tenantBroker(): Promise<Broker> {
  return scope.broker({ store: memoryStore(), contracts: [alarms], deadLetter: DEAD, security: memorySecurityStore({
    tenants: { acme: '1111', beta: '2222' },
    keys: Object.fromEntries(NAMES.map((n) => [n, secret(n)])),
  }) });
}

const proven = (b: Broker, name: string): Promise<Component> => scope.connect(b, name, { key: secret(name) });
/** Dead letters as `topic:text` of the refused value. */
const letters = (ms: Message[]): string[] => ms.map((m) => {
  const d = m.args[0] as { topic: string; args: { text: unknown }[] };
  return `${d.topic}:${String(d.args[0]!.text)}`;
});

describe('dead letters with isolated tenants', () => {
  it("reach the publisher's tenant only, live and on replay", async () => {
    const b = await tenantBroker();
    const [mate, ops, pub, spy] = [await proven(b, 'mate.acme'), await proven(b, 'ops.acme'),
      await proven(b, 'pub.beta'), await proven(b, 'spy.beta')];
    const acmeDead = collect(ops.subscribe$(DEAD), 2, { what: "acme's dead letters" });
    const betaDead = collect(spy.subscribe$(DEAD), 1, { what: "beta's dead letter" });
    await roundTrip(ops, spy);
    mate.publish('alarms/high', { text: 41 });
    await mate.publishAsync('alarms/high', [{ text: 42 }], { qos: 1 }).catch(() => undefined);
    await roundTrip(mate);
    // beta's own refused publish, after acme's: it reaches spy, and anything of acme's would have come first.
    pub.publish('alarms/low', { text: 7 });
    expect(letters(await acmeDead.done)).toEqual(['alarms/high:41', 'alarms/high:42']);
    expect(letters(await betaDead.done)).toEqual(['alarms/low:7']);
    await roundTrip(mate, pub, ops, spy);
    expect(letters(acmeDead.values)).toEqual(['alarms/high:41', 'alarms/high:42']);
    expect(letters(betaDead.values)).toEqual(['alarms/low:7']);
    expect(b.stats().contracts).toEqual({ checked: 3, refused: 1, dropped: 2 });

    // Replay of the log: each tenant's late subscriber gets its own tenant's dead letters only.
    for (const [name, own] of [['late.beta', ['alarms/low:7']], ['late.acme', ['alarms/high:41', 'alarms/high:42']]] as const) {
      const late = await proven(b, name);
      const back = collect(late.subscribe$(DEAD, { msgfrom: period({ minutes: 5 }) }), own.length, { what: `${name}'s replay` });
      expect(letters(await back.done)).toEqual(own);
      await roundTrip(late, mate);
      expect(letters(back.values)).toEqual(own);
    }
  });

  it("of a publish handed to the federation agent (a bridge's) reach the bridge's tenant only", async () => {
    const b = await tenantBroker();
    const [mate, ops, spy] = [await proven(b, 'mate.acme'), await proven(b, 'ops.acme'), await proven(b, 'spy.beta')];
    const acmeDead = collect(ops.subscribe$(DEAD), 1, { what: "acme's dead letter" });
    const betaDead = collect(spy.subscribe$(DEAD), 1, { what: "beta's dead letter" });
    await roundTrip(ops, spy);
    // What a bridge logged in as mate.acme does with a publish it carries in (src/bridge/federation-agent.ts).
    await mate.rpc(AGENT.publish, 'far-uid', [], 'alarms/high', [{ text: 43 }], 0).catch(() => undefined);
    await spy.rpc(AGENT.publish, 'far-uid-2', [], 'alarms/low', [{ text: 8 }], 0).catch(() => undefined);
    expect(letters(await acmeDead.done)).toEqual(['alarms/high:43']);
    expect(letters(await betaDead.done)).toEqual(['alarms/low:8']);
    await roundTrip(mate, ops, spy);
    expect(letters(acmeDead.values)).toEqual(['alarms/high:43']);
    expect(letters(betaDead.values)).toEqual(['alarms/low:8']);
  });
});
