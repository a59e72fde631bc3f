/**
 * Typed contracts at a broker's federation agent (README "Typed contracts": a publish whose topic
 * fits a contract's pattern must fit its schema; "MQTT and federation"): a publish a bridge
 * brings in is checked like a component's, so neither a bridge from a broker without the
 * contract nor a component calling the agent directly gets a value past it. Real brokers on
 * 127.0.0.1 port 0.
 */
import { z } from 'zod';
import { filter, firstValueFrom, timeout } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { bridge } from '../../src/bridge/federation.js';
import { AGENT } from '../../src/bridge/federation-protocol.js';
import { topic } from '../../src/index.js';
import { collect, roundTrip, useScope, waitFor } from './helpers.js';

const scope = useScope();
const alarms = topic('alarms/:level', z.object({ text: z.string() }));

describe('a contract at the federation agent', () => {
  it('keeps a value that does not fit out, whether a bridge or a component hands it to the agent', async () => {
    const b = await scope.broker({ name: 'b', contracts: [alarms] });
    const a = await scope.broker({ name: 'a' });
    const link = scope.track(bridge(`${a.url!}/a-side`, `${b.url!}/b-side`, { refreshInterval: 100 }));
    await firstValueFrom(link.status$.pipe(filter((s) => s.type === 'up'), timeout(8_000)));
    const [sub, rogue] = await scope.connectAll(b, 'sub', 'rogue');
    const [far] = await scope.connectAll(a, 'far');
    const got = collect(sub!.subscribe$('alarms/*'), 1, { what: 'alarms at b' });
    await roundTrip(sub!);
    await waitFor(() => {
      if (got.values.length > 0) return true;
      far!.publish('alarms/low', { text: 'fits' });
      return false;
    }, { timeout: 8_000, interval: 100, what: 'a fitting alarm to cross' });
    far!.publish('alarms/high', { text: 42 });
    await rogue!.rpc(AGENT.publish, 'rogue-uid', [], 'alarms/high', [{ text: 43 }], 0).catch(() => undefined);
    await roundTrip(far!, rogue!);
    far!.publish('alarms/low', { text: 'last' });
    await waitFor(() => got.values.some((m) => (m.args[0] as { text: unknown }).text === 'last'), { what: 'the last alarm' });
    expect(got.values.map((m) => (m.args[0] as { text: unknown }).text).filter((t) => typeof t !== 'string')).toEqual([]);
    expect(b.stats().contracts?.dropped).toBeGreaterThanOrEqual(2);
  });
});
