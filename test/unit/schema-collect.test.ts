/**
 * The schema stage's intake without a database: collectRows as marble tests, and the
 * pending-writes bound with its overflow policies and their reporting.
 */
import { map, Subject } from 'rxjs';
import type { TestScheduler } from 'rxjs/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { createScheduler } from '../../marbles/helpers.js';
import { collectRows, ColumnBatch, parseSchema, type Published } from '../../src/schema/index.js';
import { PendingWrites } from '../../src/schema/pending-writes.js';
import type { Logger } from '../../src/types.js';

const SCHEMA = parseSchema({ tables: [
  { table: 'telemetry', topic: ':site/:dn/telemetry', extras: { recv_ts: 'ts' }, columns: [
    { col: 'site', type: 'TEXT' }, { col: 'dn', type: 'TEXT' }, { col: 'temperature', type: 'DOUBLE' },
    { col: 'count', type: 'BIGINT' }, { col: 'at', type: 'TIMESTAMP' }] },
  { table: 'alarm', topic: ':site/alarm', columns: [{ col: 'site', type: 'TEXT' }, { col: 'level', type: 'INTEGER', nullable: false }] },
] });

function pub(topic: string, args: unknown[], recv = 1n): Published {
  return { topic, args, flags: 0, recv, origin: 'test' };
}

function logger(warnings: Record<string, unknown>[]): Logger {
  const noop = (): void => undefined;
  const log: Logger = { debug: noop, info: noop, error: noop, warn: (obj) => { warnings.push(obj as Record<string, unknown>); }, child: () => log };
  return log;
}

describe('collectRows', () => {
  let scheduler: TestScheduler;
  beforeEach(() => { scheduler = createScheduler(); });

  const msgs = {
    a: pub('s1/d1/telemetry', [{ temperature: 1 }]),
    b: pub('s1/alarm', [{ level: 2 }]),
    c: pub('s2/d2/telemetry', [{ temperature: 3 }]),
    x: pub('unrelated', [1]),
    z: pub('s1/alarm', [{ level: 'bad' }]),
  };
  /** Batches as [table, rows] pairs, comparable in marbles. */
  const shape = map((batches: ColumnBatch[]) => batches.map((b) => `${b.table.name}:${b.length}`));

  it('emits one batch per table once maxRows rows are collected, ignoring unmatched topics', () => {
    scheduler.run(({ hot, expectObservable }) => {
      const source = hot('  -a-x-b-c-a-|', msgs);
      const expected = '    -------y---(z|)';
      expectObservable(source.pipe(collectRows({ schema: SCHEMA, maxRows: 3, maxWait: 100 }), shape))
        .toBe(expected, { y: ['telemetry:2', 'alarm:1'], z: ['telemetry:1'] });
    });
  });

  it('maps each publish with its own topic\'s table and variables, whatever topic came before', () => {
    // The intake keeps the last topic's match: runs of one topic, alternations, unmatched
    // topics and a topic that came back after others must all land where matchTable says.
    const topics = ['s1/d1/telemetry', 's1/d1/telemetry', 's2/d2/telemetry', 'unrelated', 's1/d1/telemetry', 's3/alarm',
      's3/alarm', 'unrelated', 'unrelated', 's2/d2/telemetry', 's1/alarm', 's2/d9/telemetry'];
    const got: ColumnBatch[] = [];
    const input = new Subject<Published>();
    input.pipe(collectRows({ schema: SCHEMA, maxRows: 1_000, maxWait: 1e9 })).subscribe((batches) => got.push(...batches));
    topics.forEach((topic, i) => input.next(pub(topic, [topic.endsWith('alarm') ? { level: i } : { temperature: i, count: i }], BigInt(i))));
    input.complete();
    const rows = Object.fromEntries(got.map((b) => [b.table.name, Array.from({ length: b.length }, (_, r) => b.row(r))]));
    const expected = (table: string): unknown[][] => topics.flatMap((topic, i) => {
      const [site, dn] = topic.split('/');
      if (table === 'alarm' && topic.endsWith('/alarm')) return [[site, i]];
      if (table === 'telemetry' && topic.endsWith('/telemetry')) return [[site, dn, i, BigInt(i), null, BigInt(i)]];
      return [];
    });
    expect(rows['telemetry']).toEqual(expected('telemetry'));
    expect(rows['alarm']).toEqual(expected('alarm'));
  });

  it('emits maxWait after the first row and on flush$, and reports what does not fit', () => {
    scheduler.run(({ hot, expectObservable, time }) => {
      const wait = time('   ----|');
      const flush = hot('   ------------f--');
      const source = hot('  -a-z-----c-----', msgs);
      const expected = '    -----y------w--';
      const rejected: string[] = [];
      expectObservable(source.pipe(collectRows({ schema: SCHEMA, maxRows: 10, maxWait: wait, flush$: flush, scheduler,
        onReject: (msg, table, reason) => rejected.push(`${msg.topic} ${table.name} ${reason}`) }), shape))
        .toBe(expected, { y: ['telemetry:1'], w: ['telemetry:1'] });
      scheduler.flush();
      expect(rejected).toEqual(["s1/alarm alarm column 'level': \"bad\" does not fit INTEGER"]);
    });
  });

  it('passes errors on and releases source, flush$ and timer on unsubscribe', () => {
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot('  -a-#', msgs);
      expectObservable(source.pipe(collectRows({ schema: SCHEMA, maxRows: 10, maxWait: 100 }))).toBe('---#');
      const other = hot('   -a---c---', msgs);
      const flush = hot('   ---------');
      const unsub = '       ------!';
      const subs = '        ^-----!';
      // c is still waiting when the subscriber leaves: it is released, not emitted.
      expectObservable(other.pipe(collectRows({ schema: SCHEMA, maxRows: 10, maxWait: 2, flush$: flush, scheduler }), shape), unsub)
        .toBe('---y---', { y: ['telemetry:1'] });
      expectSubscriptions(other.subscriptions).toBe(subs);
      expectSubscriptions(flush.subscriptions).toBe(subs);
    });
  });

  it('on real timers: each window is armed once, a size emission disarms it, and unsubscribe leaves no timer', async () => {
    const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));
    // Node timers alive now (the runner has its own, so each check is relative to the one before).
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const input = new Subject<Published>();
    const got: string[][] = [];
    const sub = input.pipe(collectRows({ schema: SCHEMA, maxRows: 2, maxWait: 30 }), shape).subscribe((b) => got.push(b));
    let t = timers();
    input.next(msgs.a);
    expect(timers()).toBe(t + 1);
    input.next(msgs.b); // the size emission: its window's timer goes with it
    expect(got).toEqual([['telemetry:1', 'alarm:1']]);
    expect(timers()).toBe(t);
    await sleep(60);
    expect(got).toHaveLength(1); // no emission of an empty window
    input.next(msgs.c); // a window emitted by time, then one by size, then one by time
    await sleep(60);
    input.next(msgs.a);
    input.next(msgs.a);
    t = timers();
    input.next(msgs.b);
    expect(timers()).toBe(t + 1);
    await sleep(60);
    expect(got).toEqual([['telemetry:1', 'alarm:1'], ['telemetry:1'], ['telemetry:2'], ['alarm:1']]);
    t = timers();
    input.next(msgs.c);
    expect(timers()).toBe(t + 1);
    sub.unsubscribe();
    expect(timers()).toBe(t);
    await sleep(60);
    expect(got).toHaveLength(4);
  });
});

describe('PendingWrites', () => {
  const alarm = SCHEMA.tables[1]!;
  const batchOf = (rows: number): ColumnBatch => ColumnBatch.fromRows(alarm, Array.from({ length: rows }, () => ['s', 1]));
  const unit = batchOf(1).bytes;

  it('queues under maxBytes and hands a backlog out in runs of at most maxRows', () => {
    const pending = new PendingWrites({ maxBytes: 100 * unit, overflow: 'dropOldest', logger: logger([]) });
    for (let i = 0; i < 5; i++) expect(pending.push([batchOf(10)])).toBe(true);
    expect({ rows: pending.rows, bytes: pending.bytes, lastSeq: pending.lastSeq }).toEqual({ rows: 50, bytes: 50 * unit, lastSeq: 5 });
    const first = pending.take(25);
    expect(first.map((g) => g.seq)).toEqual([1, 2]);
    expect(pending.take(5).map((g) => g.seq)).toEqual([3]); // at least one, even past maxRows
    expect(pending.rows).toBe(50); // taken groups count until settled
    pending.settle(first);
    expect(pending.rows).toBe(30);
  });

  it('dropOldest drops queued groups, never the one in flight, and logs per doubling and on catching up', () => {
    const warnings: Record<string, unknown>[] = [];
    const pending = new PendingWrites({ maxBytes: 20 * unit, overflow: 'dropOldest', logger: logger(warnings) });
    pending.push([batchOf(10)]);
    const inFlight = pending.take(100);
    for (let i = 0; i < 8; i++) pending.push([batchOf(10)]);
    expect({ rows: pending.rows, dropped: pending.dropped }).toEqual({ rows: 20, dropped: 70 });
    expect(warnings.map((w) => w['dropped'])).toEqual([10, 20, 40, 70]);
    const rest = pending.take(100);
    expect(rest.map((g) => g.seq)).toEqual([9]);
    pending.settle(inFlight);
    pending.settle(rest);
    expect(warnings.at(-1)).toMatchObject({ dropped: 70, droppedTotal: 70 });
    expect({ rows: pending.rows, bytes: pending.bytes }).toEqual({ rows: 0, bytes: 0 });
  });

  it('dropNewest refuses what does not fit and gives it no seq', () => {
    const pending = new PendingWrites({ maxBytes: 20 * unit, overflow: 'dropNewest', logger: logger([]) });
    expect([pending.push([batchOf(10)]), pending.push([batchOf(10)]), pending.push([batchOf(10)])]).toEqual([true, true, false]);
    expect({ lastSeq: pending.lastSeq, dropped: pending.dropped, rows: pending.rows }).toEqual({ lastSeq: 2, dropped: 10, rows: 20 });
  });
});
