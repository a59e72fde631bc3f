/**
 * Data at rest through a real broker (spec §8): the spec's example schema end to end, a restart,
 * DataFrames between components, a bad schema, a payload that does not fit.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pl from 'nodejs-polars';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { broker } from '../../src/broker/index.js';
import { collect, RawClient, roundTrip, useScope, waitFor } from './helpers.js';

/** The spec's §8.2 example plus an append-only telemetry table. */
const SCHEMA = {
  tables: [
    {
      table: 'temperature',
      topic: ':regione/:loc/temperature',
      columns: [
        { col: 'sensor', type: 'TEXT', nullable: false },
        { col: 'regione', type: 'TEXT', nullable: false },
        { col: 'loc', type: 'TEXT' },
        { col: 'value', type: 'DOUBLE', default: 0 },
      ],
      keys: ['sensor'],
      extras: { recv_ts: 'ts', slot: 'rop' },
    },
    {
      table: 'telemetry',
      topic: ':site/:dn/telemetry',
      columns: [
        { col: 'site', type: 'TEXT' },
        { col: 'dn', type: 'TEXT' },
        { col: 'temperature', type: 'DOUBLE' },
        { col: 'pressure', type: 'DOUBLE' },
      ],
    },
  ],
};

type Frame = pl.DataFrame;
const run = promisify(execFile);

describe('schema tables through a broker', () => {
  const scope = useScope();
  let dir: string;
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'rembus-schema-')); });
  afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

  it('persists, queries with where, upserts by key, deletes, and keeps data across a restart', async () => {
    const b = await scope.broker({ dataDir: dir, schema: SCHEMA });
    const [pub, client] = await scope.connectAll(b, 'pub', 'client');
    pub.publish('veneto/belluno/temperature', { sensor: 's1', value: 21.5 });
    pub.publish('veneto/agordo/temperature', { sensor: 's2', value: 18 });
    for (let i = 0; i < 10; i++) pub.publish(`plant${i % 2}/dev${i}/telemetry`, { temperature: 20 + i, pressure: 1000 + i });
    await roundTrip(pub);

    const warm = await client.rpc<Frame>('query_temperature', { where: 'value > 20' });
    expect(warm.getColumn('sensor').toArray()).toEqual(['s1']);
    expect(warm.getColumn('loc').toArray()).toEqual(['belluno']);
    const plant0 = await client.rpc<Frame>('query_telemetry', { where: "site = 'plant0' AND temperature >= 22" });
    expect(plant0.height).toBe(4);

    await client.rpc('upsert_temperature', { sensor: 's1', regione: 'veneto', value: 30 });
    const s1 = await client.rpc<Frame>('query_temperature', { where: "sensor = 's1'" });
    expect(s1.height).toBe(1);
    expect(s1.getColumn('value').toArray()).toEqual([30]);

    await client.rpc('delete_temperature', { where: "sensor = 's2'" });
    expect((await client.rpc<Frame>('query_temperature')).height).toBe(1);

    await b.close();
    const again = await scope.broker({ dataDir: dir, schema: SCHEMA });
    const reader = await scope.connect(again, 'reader');
    const after = await reader.rpc<Frame>('query_temperature');
    expect(after.getColumn('sensor').toArray()).toEqual(['s1']);
    expect((await reader.rpc<Frame>('query_telemetry')).height).toBe(10);
  });

  it('rembus rpc query_<t> --json prints a DataFrame result as JSON rows', async () => {
    const b = await scope.broker({ dataDir: dir, schema: SCHEMA });
    const pub = await scope.connect(b, 'pub');
    pub.publish('plant1/dev7/telemetry', { temperature: 21.5, pressure: 1013 });
    await roundTrip(pub);
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'rpc', 'query_telemetry', '--json'],
      { cwd: root, env: { ...process.env, REMBUS_SERVER: b.url! }, timeout: 20_000 });
    expect(JSON.parse(stdout)).toEqual([{ site: 'plant1', dn: 'dev7', temperature: 21.5, pressure: 1013 }]);
  });

  it('refuses a where clause that reaches another table or runs DDL', async () => {
    const b = await scope.broker({ dataDir: dir, schema: SCHEMA });
    const client = await scope.connect(b, 'client');
    await expect(client.rpc('query_temperature', { where: '1=1; DROP TABLE telemetry' })).rejects.toMatchObject({ remoteCode: 40 });
    await expect(client.rpc('query_temperature', { where: 'sensor IN (SELECT dn FROM telemetry)' })).rejects.toMatchObject({ remoteCode: 40 });
  });

  it('counts a payload that does not fit its table and goes on', async () => {
    const b = await scope.broker({ dataDir: dir, schema: SCHEMA });
    const [pub, client] = await scope.connectAll(b, 'pub', 'client');
    const sub = await scope.connect(b, 'sub');
    const live = collect(sub.subscribe$('**/temperature'), 2);
    await roundTrip(sub);
    pub.publish('veneto/belluno/temperature', 'not', 'a', 'row');     // positional, wrong count
    pub.publish('veneto/belluno/temperature', { sensor: 's9', value: 1 });
    await roundTrip(pub);
    expect((await live.done).length).toBe(2);                          // routing unaffected
    const rows = await client.rpc<Frame>('query_temperature');
    expect(rows.getColumn('sensor').toArray()).toEqual(['s9']);
    await waitFor(() => (b.stats().schema?.rejected ?? 0) === 1, { what: 'the rejected payload to be counted' });
  });

  it('fills topic variables from the topic, never from a positional payload, and refuses extra values (issue 13 item 12)', async () => {
    const b = await scope.broker({ dataDir: dir, schema: SCHEMA });
    const [pub, client] = await scope.connectAll(b, 'pub', 'client');
    pub.publish('site1/d4/telemetry', 21.5, 1013);                 // the two columns the topic does not give
    pub.publish('site1/d4/telemetry', 'siteX', 'd4x', 22.5, 1014); // a value per column: stored dn='d4x' before
    pub.publish('site1/d4/telemetry', 23.5, 1015, 9);               // one value too many
    pub.publish('site1/d4/telemetry', 24.5);                        // one too few
    pub.publish('veneto/belluno/temperature', 's1', 19);            // keyed table: sensor, value
    await roundTrip(pub);
    await waitFor(() => (b.stats().schema?.rejected ?? 0) === 3, { what: 'the three refused payloads to be counted' });
    const rows = await client.rpc<Frame>('query_telemetry');
    expect(rows.toRecords()).toEqual([{ site: 'site1', dn: 'd4', temperature: 21.5, pressure: 1013 }]);
    const temp = await client.rpc<Frame>('query_temperature');
    expect(temp.select('sensor', 'regione', 'loc', 'value').toRecords()).toEqual([{ sensor: 's1', regione: 'veneto', loc: 'belluno', value: 19 }]);
    expect(b.stats().schema?.persisted).toBe(2);
  });

  it('counts args that are well formed but undecodable as rejected, and goes on', async () => {
    const b = await scope.broker({ dataDir: dir, schema: SCHEMA });
    const [pub, client] = await scope.connectAll(b, 'pub', 'client');
    const raw = scope.track(await RawClient.open(b.url!));
    // [PUB, "s1/d1/telemetry", [simple(0)]]: CBOR that cbor-x refuses to decode (codec-lazy-pub.test).
    raw.sendBinary(Uint8Array.from([0x83, 0x01, 0x6f, ...new TextEncoder().encode('s1/d1/telemetry'), 0x81, 0xe0]));
    await waitFor(() => (b.stats().schema?.rejected ?? 0) === 1, { what: 'the undecodable publish to be counted' });
    pub.publish('s1/d2/telemetry', { temperature: 1, pressure: 2 });
    await roundTrip(pub);
    const rows = await client.rpc<Frame>('query_telemetry');
    expect(rows.getColumn('dn').toArray()).toEqual(['d2']);
    expect(b.stats().schema?.rejected).toBe(1);
  });

  it('passes schemaWrites on to the stage: rows wait for a full batch when the interval is long', async () => {
    const b = await scope.broker({ dataDir: dir, schema: SCHEMA, schemaWrites: { batchSize: 3, flushInterval: 60_000 } });
    const pub = await scope.connect(b, 'pub');
    pub.publish('s1/d1/telemetry', { temperature: 1, pressure: 2 });
    pub.publish('s1/d2/telemetry', { temperature: 1, pressure: 2 });
    await roundTrip(pub);
    await new Promise((resolve) => setTimeout(resolve, 400)); // twice the default flushInterval
    expect(b.stats().schema?.persisted).toBe(0);
    pub.publish('s1/d3/telemetry', { temperature: 1, pressure: 2 });
    await waitFor(() => b.stats().schema?.persisted === 3, { what: 'the full batch to be written' });
  });

  it('fails start-up on a bad schema file with a message naming the field', async () => {
    const file = join(dir, 'schema.json');
    await writeFile(file, JSON.stringify({ tables: [{ table: 't', columns: [{ col: 'x', type: 'TEXTT' }] }] }));
    await expect(broker({ port: null, dataDir: dir, schema: file })).rejects.toThrow(/tables\[0\]\.columns\[0\]\.type/);
  });

  it('carries DataFrames between components as publish arguments and RPC results', async () => {
    const b = await scope.broker();
    const [a, c] = await scope.connectAll(b, 'a', 'c');
    const df = pl.DataFrame({ id: [1, 2, 3], name: ['x', null, 'z'], ok: [true, false, null] });
    c.expose('double', (frame: Frame) => frame.withColumns(pl.col('id').mul(2)));
    const got = collect(c.subscribe$<[Frame]>('frames'), 1);
    await roundTrip(c);
    a.publish('frames', df);
    const [message] = await got.done;
    expect(message!.args[0].toRecords()).toEqual(df.toRecords());
    const doubled = await a.rpc<Frame>('double', df);
    expect(doubled.getColumn('id').toArray()).toEqual([2, 4, 6]);
  });
});
