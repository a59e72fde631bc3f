/**
 * Declarations scale (spec §3.6): a named component on a durable broker declares 100,000
 * subscriptions and 100,000 exposed methods over one connection, each confirmed only once it is
 * stored (one key per declaration, not the twin's whole record). All are confirmed, and all are
 * found in the store after the broker closes. Time and memory are measured by
 * bench/declarations.ts, not here.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { broker, type Broker } from '../../src/broker/index.js';
import { decodeCbor, encodeCbor } from '../../src/codec/cbor.js';
import { newMsgId } from '../../src/codec/msgid.js';
import { STATUS } from '../../src/protocol/messages.js';
import { openLmdbStore } from '../../src/store/lmdb/lmdb-store.js';
import { RawClient } from './helpers.js';

const N = 100_000;
let dir: string | undefined;
let running: Broker | undefined;
let raw: RawClient | undefined;

afterEach(async () => {
  await raw?.close();
  await running?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  raw = running = dir = undefined;
});

/** Send `n` admin commands at once; resolves with how many were answered OK. */
async function declare(client: RawClient, cmd: string, topic: (i: number) => string): Promise<number> {
  const from = client.frames.length;
  for (let i = 0; i < N; i++) {
    client.sendBinary(encodeCbor({ type: 'admin', id: newMsgId(), topic: topic(i), cmd: { cmd, msg_from: 0 } }));
  }
  const deadline = Date.now() + 120_000;
  while (client.frames.length - from < N && Date.now() < deadline && client.isOpen) await new Promise((r) => setTimeout(r, 20));
  let ok = 0;
  for (const frame of client.frames.slice(from)) {
    const msg = decodeCbor(frame as Uint8Array);
    if (msg.type === 'response' && msg.status === STATUS.OK) ok++;
  }
  return ok;
}

describe('declarations at scale on a durable broker', () => {
  it('confirms and stores 100k subscriptions and 100k exposes from one connection', async () => {
    dir = await mkdtemp(join(tmpdir(), 'rembus-decl-'));
    running = await broker({ port: 0, host: '127.0.0.1', dataDir: dir });
    raw = await RawClient.open(`${running.url!}`);
    raw.sendBinary(encodeCbor({ type: 'identity', id: newMsgId(), cid: 'many' }));
    const hello = decodeCbor((await raw.next()) as Uint8Array);
    expect(hello).toMatchObject({ type: 'response', status: STATUS.OK });

    expect(await declare(raw, 'subscribe', (i) => `sensor/${i}/value`)).toBe(N);
    expect(await declare(raw, 'expose', (i) => `method_${i}`)).toBe(N);
    expect(running.stats().twins).toBe(1);
    await raw.close();
    await running.close();
    running = undefined;

    const store = await openLmdbStore({ path: join(dir, 'broker.lmdb') });
    try {
      const [twin] = await store.loadTwins();
      expect(twin?.name).toBe('many');
      expect(twin?.subscriptions.size).toBe(N);
      expect(twin?.exposed.length).toBe(N);
    } finally {
      await store.close();
    }
  }, 240_000);
});
