import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ConnectionClosedError } from '../../src/errors.js';
import { memoryStore } from '../../src/store/memory-store.js';
import { openDuckDbStore } from '../../src/store/duckdb/duckdb-store.js';
import { openDatabase } from '../../src/store/duckdb/database.js';
import { openLmdbStore } from '../../src/store/lmdb/lmdb-store.js';
import type { StoredMessage } from '../../src/store/types.js';
import { storeContract } from '../../src/testing/store-contract.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const storeModule = join(repoRoot, 'src/store/duckdb/duckdb-store.ts');
const MAX_U64 = 2n ** 64n - 1n;
const dir = await mkdtemp(join(tmpdir(), 'rembus-store-'));
afterAll(() => rm(dir, { recursive: true, force: true }));
let files = 0;
/** A fresh file path in a not-yet-existing directory (the store must create it). */
const freshPath = (): string => join(dir, `db${files++}`, 'broker.duckdb');

const msg = (recv: bigint, extra: Partial<StoredMessage> = {}): StoredMessage => ({
  recv, slot: null, qos: 0x10, uid: recv, topic: 'a/b', data: Uint8Array.of(Number(recv % 256n)), ...extra,
});
const all = { after: 0n, upTo: MAX_U64, limit: 1_000_000 };

storeContract('memoryStore', async () => memoryStore(), { publishOptions: true });
storeContract('openDuckDbStore (file)', () => openDuckDbStore({ path: freshPath() }));
storeContract("openDuckDbStore (':memory:')", () => openDuckDbStore({ path: ':memory:' }));
storeContract('openLmdbStore', () => openLmdbStore({ path: freshPath().replace(/duckdb$/, 'lmdb') }), { publishOptions: true });
storeContract("openLmdbStore (fsync: 'always')", () => openLmdbStore({ path: freshPath().replace(/duckdb$/, 'lmdb'), fsync: 'always' }),
  { publishOptions: true });

/** Spawn a node process (no npx wrapper, so SIGKILL hits the process that holds the file). */
function runChild(script: string, dbPath: string): Promise<{ out: string; signal: NodeJS.Signals | null }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, dbPath],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('written')) child.kill('SIGKILL');
    });
    child.stderr.on('data', (chunk: Buffer) => { err += chunk.toString(); });
    child.on('error', fail);
    child.on('exit', (_code, signal) => (signal === 'SIGKILL' ? done({ out, signal }) : fail(new Error(err))));
  });
}

describe('openDuckDbStore', () => {
  it('keeps messages and twins when the file is reopened', async () => {
    const path = freshPath();
    const first = await openDuckDbStore({ path });
    await first.appendMessages([msg(1n), msg(2n)]);
    await first.saveTwin({ name: 'foo', subscriptions: new Map([['a/b', Infinity]]), exposed: ['m'],
      mark: 2n, awaitingAck2: [9n] });
    await first.close();
    const again = await openDuckDbStore({ path });
    expect((await again.readMessages(all)).map((m) => m.recv)).toEqual([1n, 2n]);
    const [foo] = await again.loadTwins();
    expect(foo?.subscriptions.get('a/b')).toBe(Infinity);
    expect(foo?.awaitingAck2).toEqual([9n]);
    await again.close();
  });

  it('keeps committed rows when the process is SIGKILLed right after the write resolves', async () => {
    const path = freshPath();
    const script = join(dir, 'append-then-hang.mts');
    await writeFile(script, `
      import { openDuckDbStore } from ${JSON.stringify(pathToFileURL(storeModule).href)};
      const store = await openDuckDbStore({ path: process.argv[2] });
      for (let b = 0n; b < 10n; b++) {
        await store.appendMessages(Array.from({ length: 100 }, (_, i) => {
          const recv = b * 100n + BigInt(i) + 1n;
          return { recv, slot: null, qos: 0x10, uid: recv, topic: 't', data: new Uint8Array([1]) };
        }));
      }
      await store.saveMarks(new Map([['foo', 1000n]]));
      process.stdout.write('written\\n');
      setInterval(() => undefined, 60_000); // never closes: only SIGKILL ends it
    `);
    const { signal } = await runChild(script, path);
    expect(signal).toBe('SIGKILL');
    const store = await openDuckDbStore({ path });
    expect((await store.readMessages(all)).length).toBe(1000);
    expect(await store.lastRecv()).toBe(1000n);
    expect((await store.loadTwins()).map((t) => [t.name, t.mark])).toEqual([['foo', 1000n]]);
    await store.close();
  });

  it('rejects calls after close with ConnectionClosedError', async () => {
    const store = await openDuckDbStore({ path: ':memory:' });
    await store.close();
    await expect(store.lastRecv()).rejects.toBeInstanceOf(ConnectionClosedError);
    await expect(store.appendMessages([msg(1n)])).rejects.toBeInstanceOf(ConnectionClosedError);
    await expect(store.saveMarks(new Map([['a', 1n]]))).rejects.toThrow(/closed/);
    expect(store.db.closed).toBe(true);
  });

  it('rolls back a failing batch entirely and keeps serving later calls', async () => {
    const store = await openDuckDbStore({ path: ':memory:' });
    const bad = store.appendMessages([msg(1n), msg(2n, { qos: 256 })]);
    const good = store.appendMessages([msg(3n)]);
    await expect(bad).rejects.toThrow();
    await good;
    expect((await store.readMessages(all)).map((m) => m.recv)).toEqual([3n]);
    await store.close();
  });

  it('opens a message table of an older broker (PY\'s seven columns): its rows keep no publisher, new ones do', async () => {
    const path = freshPath();
    const old = await openDatabase(path);
    await old.write(async (c) => {
      await c.run('CREATE TABLE message(name TEXT, recv UBIGINT, slot UINTEGER, qos UTINYINT, uid UBIGINT, topic TEXT, data BLOB)');
      await c.run("INSERT INTO message VALUES ('broker', 1, NULL, 16, 1, 'a/b', '\\x81\\x01'::BLOB)");
    });
    await old.close();
    const store = await openDuckDbStore({ path });
    await store.appendMessages([msg(2n, { origin: 'pub.t1' }), msg(3n, { origin: null })]);
    const back = await store.readMessages(all);
    expect(back.map((m) => [m.recv, 'origin' in m ? m.origin : 'absent'])).toEqual([[1n, 'absent'], [2n, 'pub.t1'], [3n, null]]);
    expect(back[0]!.data).toEqual(Uint8Array.of(0x81, 0x01));
    await store.close();
  });

  it('keeps the rows of brokers sharing a file apart', async () => {
    const path = freshPath();
    const a = await openDuckDbStore({ path, brokerName: 'a' });
    await a.appendMessages([msg(1n)]);
    await a.saveTwin({ name: 'x', subscriptions: new Map(), exposed: [], mark: 1n, awaitingAck2: [] });
    await a.close();
    const b = await openDuckDbStore({ path, brokerName: 'b' });
    expect(await b.lastRecv()).toBe(0n);
    expect(await b.loadTwins()).toEqual([]);
    expect(await b.pruneMessages(MAX_U64)).toBe(0);
    await b.close();
    const a2 = await openDuckDbStore({ path, brokerName: 'a' });
    expect(await a2.lastRecv()).toBe(1n);
    await a2.close();
  });

  it('appends and reads back a large batch (sanity, not timed)', async () => {
    const store = await openDuckDbStore({ path: freshPath() });
    const n = 20_000;
    await store.appendMessages(Array.from({ length: n }, (_, i) => msg(BigInt(i + 1))));
    const got = await store.readMessages({ after: 100n, upTo: MAX_U64, limit: n });
    expect(got.length).toBe(n - 100);
    expect(got[0]?.recv).toBe(101n);
    expect(got.at(-1)?.data).toEqual(Uint8Array.of(n % 256));
    await store.close();
  });
});
