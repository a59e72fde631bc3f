/**
 * README "RPC", attacked with ids a buggy peer reuses: two callers that count their ids from 1
 * (each unique on its own link, spec §2.4) call the same exposer at once. An answer must reach
 * the caller whose call it answers, never the other one.
 */
import { describe, expect, it } from 'vitest';
import { decodeCbor, encodeCbor } from '../../src/codec/index.js';
import type { Msg } from '../../src/protocol/messages.js';
import { useScope, waitFor, type RawClient } from './helpers.js';
import { loggedIn, rawPeer } from './security-peer.js';

function received(raw: RawClient): Msg[] {
  return raw.frames.filter((f): f is Buffer => typeof f !== 'string').map((f) => decodeCbor(f));
}

describe('RPC edges: ids reused across callers', () => {
  const scope = useScope();

  it('never hands one caller the answer to another caller\'s call under the same id', async () => {
    const b = await scope.broker();
    const exposer = await loggedIn(rawPeer(await scope.raw(b)), 'server');
    expect((await exposer.admin('lookup', { cmd: 'expose' }))[0]).toBe(0);
    const alice = await loggedIn(rawPeer(await scope.raw(b)), 'alice');
    const bob = await loggedIn(rawPeer(await scope.raw(b)), 'bob');
    alice.raw.sendBinary(encodeCbor({ type: 'rpc', id: 1n, topic: 'lookup', target: null, args: ['alice secret'] }));
    await waitFor(() => received(exposer.raw).some((m) => m.type === 'rpc'), { timeout: 3_000, interval: 5, what: 'alice\'s call' });
    bob.raw.sendBinary(encodeCbor({ type: 'rpc', id: 1n, topic: 'lookup', target: null, args: ['bob'] }));
    await waitFor(() => received(bob.raw).some((m) => m.type === 'response'), { timeout: 3_000, interval: 5, what: 'bob\'s refusal' });
    // The exposer answers alice's call (the first it got) under its id.
    exposer.raw.sendBinary(encodeCbor({ type: 'response', id: 1n, status: 0, data: 'for alice only' }));
    await waitFor(() => received(alice.raw).some((m) => m.type === 'response' && m.id === 1n)
      || received(bob.raw).some((m) => m.type === 'response' && m.id === 1n && m.data === 'for alice only'),
    { timeout: 3_000, interval: 5, what: 'the answer' });
    await new Promise((r) => setTimeout(r, 100));
    // Bob's call under an id in use is refused at once (he may call again under another id).
    const toBob = received(bob.raw).filter((m) => m.type === 'response' && m.id === 1n);
    expect(toBob.map((m) => m.type === 'response' && [m.status, m.data])).toEqual([[10, 'call id in use']]);
    expect(received(exposer.raw).filter((m) => m.type === 'rpc')).toHaveLength(1);
    expect(received(alice.raw).filter((m) => m.type === 'response' && m.id === 1n).map((m) => m.type === 'response' && m.data))
      .toEqual(['for alice only']);
    // Answered, the id is free again: bob's call under it goes through.
    bob.raw.sendBinary(encodeCbor({ type: 'rpc', id: 1n, topic: 'lookup', target: null, args: ['bob'] }));
    await waitFor(() => received(exposer.raw).filter((m) => m.type === 'rpc').length === 2, { timeout: 3_000, interval: 5, what: 'bob\'s call' });
    exposer.raw.sendBinary(encodeCbor({ type: 'response', id: 1n, status: 0, data: 'for bob' }));
    await waitFor(() => received(bob.raw).some((m) => m.type === 'response' && m.data === 'for bob'), { timeout: 3_000, interval: 5, what: 'bob\'s answer' });
    expect(received(alice.raw).filter((m) => m.type === 'response' && m.id === 1n)).toHaveLength(1);
  });
});
