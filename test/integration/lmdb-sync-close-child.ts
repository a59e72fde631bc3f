/**
 * Child of lmdb-sync-close.test.ts (a crash it looks for kills the process that has it): an
 * LMDB store with `fsync: 'interval'` whose periodic sync is queued on libuv's thread pool
 * while every pool thread is blocked (opening a FIFO nobody writes yet), closed, then the pool
 * released. Prints `closed` once `close()` resolved and `survived` at the end.
 */
import { execFileSync } from 'node:child_process';
import { open, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { openLmdbStore } from '../../src/store/lmdb/lmdb-store.js';

const [dir] = process.argv.slice(2);
const poolSize = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
const fifo = join(dir!, 'fifo');
execFileSync('mkfifo', [fifo]);

const store = await openLmdbStore({ path: join(dir!, 'broker.lmdb'), fsync: 'interval', fsyncInterval: 5 });
await store.commit({ messages: [], twins: [{ name: 't', mark: 1n }] });
// Every pool thread blocks in open(2) on the FIFO until a writer opens it.
const blocked = Array.from({ length: poolSize }, () => new Promise<number>((done) => open(fifo, 'r', (_e, fd) => done(fd))));
await new Promise((r) => setTimeout(r, 100)); // the sync timer fires: its syncs wait for a thread
// close() must wait for those syncs: it cannot resolve before the pool is released.
const closing = store.close().then(() => console.log('closed'));
await new Promise((r) => setTimeout(r, 100)); // room for a close that does not wait to finish
closeSync(openSync(fifo, 'w')); // releases the readers, then the queued syncs run
await closing;
for (const fd of await Promise.all(blocked)) closeSync(fd);
await new Promise((r) => setTimeout(r, 100));
console.log('survived');
