/**
 * Type-level tests of typed contracts: parameters from the pattern string, values from the
 * schema (zod and valibot), publish/rpc/expose/query signatures. Checked by `npm run typecheck`
 * (part of `npm test`): `tsc` over test/ fails on any `expectTypeOf` that does not hold and on
 * any `@ts-expect-error` line that compiles.
 */
import type { Observable } from 'rxjs';
import * as v from 'valibot';
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import {
  component, method, topic, type ContractMessage, type InvalidValue, type MethodArgs, type Params, type TopicRow,
} from '../../src/index.js';

const node = component('ws://127.0.0.1:1/t');
const telemetry = topic('plant/:site/:dn/telemetry', z.object({ temp: z.number(), at: z.coerce.date().optional() }));
const status = topic('status', v.object({ up: v.boolean() }));
const add = method('add', [z.number(), z.number()], z.number());
const greet = method('greet', v.object({ name: v.string() }), v.string());

describe('Params', () => {
  it('reads parameter names from the pattern', () => {
    expectTypeOf<Params<'plant/:site/:dn/telemetry'>>().toEqualTypeOf<{ readonly site: string; readonly dn: string }>();
    expectTypeOf<Params<':a'>>().toEqualTypeOf<{ readonly a: string }>();
    expectTypeOf<Params<'a/b'>>().toEqualTypeOf<{}>();
  });
});

describe('topic contracts', () => {
  it('subscribe$ emits params and the schema output', () => {
    const s = node.subscribe$(telemetry);
    expectTypeOf(s).toEqualTypeOf<Observable<ContractMessage<typeof telemetry>>>();
    s.subscribe((m) => {
      expectTypeOf(m.params).toEqualTypeOf<{ readonly site: string; readonly dn: string }>();
      expectTypeOf(m.value).toEqualTypeOf<{ temp: number; at?: Date | undefined }>();
      expectTypeOf(m.pattern).toEqualTypeOf<'plant/:site/:dn/telemetry'>();
    });
    node.subscribe$(status).subscribe((m) => expectTypeOf(m.value).toEqualTypeOf<{ up: boolean }>());
  });

  it('publish takes the params and the schema input', () => {
    node.publish(telemetry, { site: 'a', dn: 'x' }, { temp: 1, at: '2026-01-01' });
    node.publish(status, {}, { up: true });
    // @ts-expect-error a missing parameter
    node.publish(telemetry, { site: 'a' }, { temp: 1 });
    // @ts-expect-error a parameter the pattern does not have
    node.publish(telemetry, { site: 'a', dn: 'x', other: 'y' }, { temp: 1 });
    // @ts-expect-error the wrong value type
    node.publish(telemetry, { site: 'a', dn: 'x' }, { temp: 'hot' });
    expectTypeOf(node.publish$(telemetry, { site: 'a', dn: 'x' }, { temp: 1 }, { qos: 1 })).toEqualTypeOf<Observable<void>>();
    // @ts-expect-error the wrong value type, acknowledged
    void node.publishAsync(status, {}, { up: 'yes' }, { qos: 2 });
  });

  it('query$ gives typed rows', () => {
    expectTypeOf(node.query$(telemetry, { where: 'temp > 20' })).toEqualTypeOf<Observable<readonly TopicRow<typeof telemetry>[]>>();
    node.query$(telemetry).subscribe((rows) => {
      expectTypeOf(rows[0]!.site).toBeString();
      expectTypeOf(rows[0]!.temp).toBeNumber();
    });
    expectTypeOf(node.query$(telemetry, { frame: true })).toEqualTypeOf<Observable<unknown>>();
  });

  it('invalid$ reports InvalidValue', () => {
    expectTypeOf(node.invalid$).toEqualTypeOf<Observable<InvalidValue>>();
  });

  it('string topics keep their old types', () => {
    expectTypeOf(node.subscribe$<[number]>('a/*')).toEqualTypeOf<Observable<import('../../src/index.js').Message<[number]>>>();
    node.publish('a/b', 1, 'x');
  });
});

describe('method contracts', () => {
  it('rpc$ and rpc take the argument inputs and give the result output', () => {
    expectTypeOf<MethodArgs<typeof add>>().toEqualTypeOf<[number, number]>();
    expectTypeOf(node.rpc$(add, 1, 2)).toEqualTypeOf<Observable<number>>();
    expectTypeOf(node.rpc(greet, { name: 'ada' })).toEqualTypeOf<Promise<string>>();
    expectTypeOf(node.call$(add, [1, 2], { timeout: 100 })).toEqualTypeOf<Observable<number>>();
    expectTypeOf(node.call(add, [1, 2], { timeout: 100 })).toEqualTypeOf<Promise<number>>();
    // @ts-expect-error too few arguments
    void node.rpc(add, 1);
    // @ts-expect-error a string where a number belongs
    void node.rpc(add, 1, '2');
    // @ts-expect-error the wrong object
    void node.rpc(greet, { nom: 'ada' });
  });

  it('expose hands the handler the checked arguments and wants the result type', () => {
    node.expose(add, (a, b) => {
      expectTypeOf(a).toBeNumber();
      expectTypeOf(b).toBeNumber();
      return a + b;
    });
    node.expose(greet, async ({ name }) => `hi ${name}`);
    // @ts-expect-error a result of the wrong type
    node.expose(add, (a, b) => `${a + b}`);
  });
});
