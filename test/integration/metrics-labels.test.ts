/**
 * The metrics' bounded method labels, end to end (docs/http.md: "Method labels are bounded to
 * 1,000 names (`__other__` after)"; README "Metrics"): one peer floods the broker with calls to
 * 1,500 distinct method names nobody exposes — among them names a buggy or hostile peer picks to
 * break the text format (quotes, backslashes, newlines, braces, non-ASCII, long names) — and a
 * scrape of `GET /metrics` must stay a valid Prometheus text exposition with at most 1,001
 * method labels, every call counted. Real broker, real WebSocket and HTTP on 127.0.0.1.
 */
import { describe, expect, it } from 'vitest';
import { decodeCbor, encodeCbor } from '../../src/codec/index.js';
import type { Msg } from '../../src/protocol/messages.js';
import { firstValueFrom, toArray } from 'rxjs';
import { http } from './http-request.js';
import { useScope } from './helpers.js';

const scope = useScope();

const HOSTILE = ['quote"d', 'back\\slash', 'new\nline', 'brace}{', 'label="x"', 'ünï©ødé', 'sp ace', 'x'.repeat(200), ''];
const CALLS = 1_500;

/** `name{labels} value` with each label value in the exposition format's escaping. */
const SAMPLE = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"(,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")*\})? \S+$/;

/** Label values of `label` on the samples named `metric`, unescaped. */
function labelValues(text: string, metric: string, label: string): Map<string, number> {
  const out = new Map<string, number>();
  const re = new RegExp(`^${metric}\\{(?:[^\\n]*,)?${label}="((?:[^"\\\\\\n]|\\\\[\\\\"n])*)"[^\\n]*\\} (\\S+)$`, 'gm');
  for (const m of text.matchAll(re)) {
    const value = m[1]!.replace(/\\(.)/g, (_s, c: string) => (c === 'n' ? '\n' : c));
    out.set(value, (out.get(value) ?? 0) + Number(m[2]));
  }
  return out;
}

describe('GET /metrics under a flood of distinct method names', () => {
  it('keeps at most 1,000 method labels plus __other__, counts every call, and stays valid text', async () => {
    const b = await scope.broker();
    const raw = await scope.raw(b);
    const names = [...HOSTILE, ...Array.from({ length: CALLS - HOSTILE.length }, (_, i) => `made-up-${i}`)];
    names.forEach((topic, i) => raw.sendBinary(encodeCbor({ type: 'rpc', id: BigInt(i + 1), topic, target: null, args: [] } as Msg)));
    // Every call is answered (42: nobody exposes it) before the scrape.
    const answered = new Set<bigint>();
    while (answered.size < CALLS) {
      const msg = decodeCbor(await raw.next(20_000) as Uint8Array);
      if (msg.type === 'response') {
        expect(msg.status).toBe(42);
        answered.add(msg.id);
      }
    }
    const res = await http(b, 'GET', '/metrics');
    expect(res.status).toBe(200);
    const lines = res.body.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    const bad = lines.filter((l) => !SAMPLE.test(l));
    expect(bad.slice(0, 5)).toEqual([]);

    const calls = labelValues(res.body, 'rembus_rpc_calls_total', 'method');
    const errors = labelValues(res.body, 'rembus_rpc_errors_total', 'method');
    const counts = labelValues(res.body, 'rembus_rpc_duration_seconds_count', 'method');
    for (const series of [calls, errors, counts]) {
      expect(series.size).toBeLessThanOrEqual(1_001);
      expect(series.has('__other__')).toBe(true);
      expect([...series.values()].reduce((a, v) => a + v, 0)).toBe(CALLS);
    }
    // The first names seen keep their own label, the hostile ones round-tripped through the escaping.
    for (const name of HOSTILE) expect(calls.get(name), JSON.stringify(name)).toBe(1);
    expect(calls.get('__other__')).toBe(CALLS - 1_000);
  }, 60_000);

  it('counts streaming calls (rpc$, call$) and methods with long names like plain ones', async () => {
    const b = await scope.broker();
    const server = await scope.connect(b, 'server');
    const long = 'm'.repeat(300);
    server.expose('add', (a: number, c: number) => a + c);
    server.expose(long, () => 'long');
    const caller = await scope.connect(b, 'caller');
    await caller.rpc('rid');
    expect(await firstValueFrom(caller.rpc$('add', 1, 2))).toBe(3);
    expect(await firstValueFrom(caller.call$('add', [2, 3]).pipe(toArray()))).toEqual([5]);
    expect(await caller.rpc('add', 3, 4)).toBe(7);
    expect(await caller.rpc(long)).toBe('long');
    await expect(firstValueFrom(caller.rpc$('nosuch'))).rejects.toThrow();
    const res = await http(b, 'GET', '/metrics');
    const calls = labelValues(res.body, 'rembus_rpc_calls_total', 'method');
    const errors = labelValues(res.body, 'rembus_rpc_errors_total', 'method');
    expect(Object.fromEntries(calls)).toMatchObject({ add: 3, [long]: 1, nosuch: 1 });
    expect(errors.get('nosuch')).toBe(1);
    expect(errors.get('add')).toBe(0);
  });
});
