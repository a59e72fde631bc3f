/**
 * Contract tables through a real broker (spec §8 via `broker({ contracts })`): columns from the
 * schema's JSON Schema form plus the pattern's parameters, typed `query$` rows, explicit columns
 * for a schema without a JSON form, and a contract table beside a schema file's tables.
 */
import * as v from 'valibot';
import { z } from 'zod';
import { firstValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ContractTableError, topic } from '../../src/index.js';
import { contractTables } from '../../src/contracts/table.js';
import { roundTrip, useScope, waitFor } from './helpers.js';

const telemetry = topic('plant/:site/:dn/telemetry',
  z.object({ temp: z.number(), count: z.number().int(), ok: z.boolean().optional(), note: z.string().nullable() }),
  { table: { name: 'telemetry', extras: { recv_ts: 'ts' } } });

describe('contract tables', () => {
  const scope = useScope();

  it('maps the schema to columns and the pattern parameters to TEXT NOT NULL columns', () => {
    expect(contractTables([telemetry])).toEqual([{
      table: 'telemetry', topic: 'plant/:site/:dn/telemetry', extras: { recv_ts: 'ts' },
      columns: [
        { col: 'site', type: 'TEXT', nullable: false }, { col: 'dn', type: 'TEXT', nullable: false },
        { col: 'temp', type: 'DOUBLE', nullable: false }, { col: 'count', type: 'BIGINT', nullable: false },
        { col: 'ok', type: 'BOOLEAN', nullable: true }, { col: 'note', type: 'TEXT', nullable: true },
      ],
    }]);
    expect(() => contractTables([topic('a/:x', z.object({ nested: z.object({ y: z.number() }) }), { table: 't' })]))
      .toThrow(/no column type/);
    expect(() => contractTables([topic('a/:x', v.object({ y: v.number() }), { table: 't' })])).toThrow(/give the table's columns/);
  });

  it('stores what fits, never what the broker refused, and query$ gives typed rows', async () => {
    const b = await scope.broker({ contracts: [telemetry], schemaWrites: { flushInterval: 10 } });
    const [pub, client] = await scope.connectAll(b, 'pub', 'client');
    pub.publish(telemetry, { site: 'a', dn: 'x' }, { temp: 21.5, count: 1, note: null });
    pub.publish(telemetry, { site: 'a', dn: 'y' }, { temp: 19, count: 2, ok: true, note: 'n' });
    await pub.publishAsync(telemetry, { site: 'b', dn: 'x' }, { temp: 30, count: 3, note: null }, { qos: 1 });
    pub.publish('plant/a/z/telemetry', { temp: 'bad', count: 4, note: null }); // dropped at ingest
    await roundTrip(pub);
    await waitFor(() => (b.stats().schema?.persisted ?? 0) >= 3, { what: 'three rows' });
    const rows = await firstValueFrom(client.query$(telemetry, { where: "site = 'a'" }));
    expect(rows.map((r) => [r.site, r.dn, r.temp, r.count, r.ok ?? null, r.note]).sort()).toEqual([
      ['a', 'x', 21.5, 1, null, null], ['a', 'y', 19, 2, true, 'n'],
    ]);
    expect(await firstValueFrom(client.query$(telemetry))).toHaveLength(3);
    expect(b.stats().contracts).toMatchObject({ dropped: 1 });
    await expect(firstValueFrom(client.query$(topic('x', z.number())))).rejects.toBeInstanceOf(ContractTableError);
    await expect(firstValueFrom(client.query$(telemetry, { where: '1=1; DROP TABLE telemetry' }))).rejects.toMatchObject({ remoteCode: 40 });
  });

  it('takes explicit columns for a schema without a JSON form, beside a schema file table', async () => {
    const alarms = topic('alarms/:level', v.object({ text: v.string() }),
      { table: { name: 'alarms', columns: [{ col: 'text', type: 'TEXT' }] } });
    const schema = { tables: [{ table: 'temperature', topic: ':loc/temperature', columns: [{ col: 'loc', type: 'TEXT' }, { col: 'value', type: 'DOUBLE' }] }] };
    const b = await scope.broker({ contracts: [alarms], schema, schemaWrites: { flushInterval: 10 } });
    const [pub, client] = await scope.connectAll(b, 'pub', 'client');
    pub.publish(alarms, { level: 'high' }, { text: 'fire' });
    pub.publish('home/temperature', { value: 20 });
    await roundTrip(pub);
    await waitFor(() => (b.stats().schema?.persisted ?? 0) >= 2, { what: 'two rows' });
    expect(await firstValueFrom(client.query$(alarms))).toEqual([{ level: 'high', text: 'fire' }]);
    expect((await client.rpc<{ height: number }>('query_temperature')).height).toBe(1);
  });

  it('refuses to start when a contract table is also a schema file table', async () => {
    const dup = topic('t/:x', z.object({ y: z.number() }), { table: 'temperature' });
    const schema = { tables: [{ table: 'temperature', columns: [{ col: 'y', type: 'DOUBLE' }] }] };
    await expect(scope.broker({ contracts: [dup], schema })).rejects.toMatchObject({ code: 'SCHEMA' });
  });
});
