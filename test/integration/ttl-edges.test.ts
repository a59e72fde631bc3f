/**
 * Publish expiry at its edges (README "Retained values, message metadata and expiry": `ttl` is
 * "a positive integer, else `InvalidOptionError` at the call site"; "not delivered, replayed or
 * retained once `ttl` ms have passed"): the largest positive integers a caller may pass. A ttl of
 * centuries must mean "not expired", must be acknowledged, logged and replayed, and must not
 * break the store's commits for everyone else — on the memory log and on LMDB, whose receive
 * and expiry times are 64-bit nanoseconds.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LastReceived, type Message } from '../../src/index.js';
import { collect, roundTrip, useScope } from './helpers.js';

const scope = useScope();
const dirs: string[] = [];
afterEach(async () => { await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true }))); });

describe('a ttl of centuries', () => {
  it.each(['memory', 'lmdb'])('is acknowledged, delivered, retained and replayed, and later publishes still are (%s log)', async (log) => {
    const dataDir = log === 'lmdb' ? await mkdtemp(join(tmpdir(), 'rembus-ttl-')) : undefined;
    if (dataDir !== undefined) dirs.push(dataDir);
    const b = await scope.broker(dataDir === undefined ? {} : { dataDir });
    const pub = await scope.connect(b, 'pub');
    const live = await scope.connect(b, 'live');
    const got = collect(live.subscribe$('t'), 3);
    await roundTrip(live);
    for (const ttl of [1e14, Number.MAX_SAFE_INTEGER]) {
      await pub.publishAsync('t', [`ttl ${ttl}`], { qos: 1, ttl, retain: true });
    }
    await pub.publishAsync('t', ['plain'], { qos: 1 });
    expect((await got.done).map((m: Message) => m.args[0])).toEqual(['ttl 100000000000000', `ttl ${Number.MAX_SAFE_INTEGER}`, 'plain']);
    const late = await scope.connect(b, 'late');
    const replay = collect(late.subscribe$('t', { msgfrom: LastReceived }), 3);
    expect((await replay.done).map((m: Message) => m.args[0]))
      .toEqual(['ttl 100000000000000', `ttl ${Number.MAX_SAFE_INTEGER}`, 'plain']);
    await pub.publishAsync('t', ['retained forever'], { qos: 1, ttl: Number.MAX_SAFE_INTEGER, retain: true });
    const fresh = await scope.connect(b);
    const retained = collect(fresh.subscribe$('t'), 1);
    expect((await retained.done)[0]!.args).toEqual(['retained forever']);
  }, 30_000);
});
