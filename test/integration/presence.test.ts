/**
 * Presence and scatter-gather over a real broker: `component_info` events in the JL shape to
 * exact subscribers, `presence$`, `services$`, `whenAvailable$`, and `gather$` with a quorum.
 */
import { describe, expect, it } from 'vitest';
import { finalize, NEVER, timer, map } from 'rxjs';
import { decodeCbor } from '../../src/codec/index.js';
import { connect, QuorumError, type PresenceState } from '../../src/index.js';
import { collect, roundTrip, textHex, useScope, waitFor } from './helpers.js';

const scope = useScope();

/** The latest value a stream emitted, kept up to date. */
function latest<T>(values: T[]): () => T | undefined {
  return () => values.at(-1);
}

describe('component_info events', () => {
  it('sends JL-shaped connection events, plus expose events, to a raw subscriber of component_info', async () => {
    const b = await scope.broker();
    const jl = await scope.raw(b);
    jl.sendBinary(`84 03 48 01 00 00 00 00 00 00 00 ${textHex('component_info')} a1 63 63 6d 64 69 73 75 62 73 63 72 69 62 65`);
    await jl.next();
    const srv = scope.track(await connect(`${b.url!}/srv`));
    srv.expose('m', () => 1);
    await roundTrip(srv);
    await srv.close();
    const events = [];
    for (let i = 0; i < 3; i++) {
      const msg = decodeCbor(await jl.next() as Uint8Array);
      expect(msg).toMatchObject({ type: 'pub', flags: 0, topic: 'component_info' });
      events.push((msg as { args: unknown[] }).args);
    }
    expect(events).toEqual([
      [{ event: 'connection_up', cid: 'srv', exposes: [] }],
      [{ event: 'expose', cid: 'srv', method: 'm' }],
      [{ event: 'connection_down', cid: 'srv' }],
    ]);
  });
});

describe('presence$', () => {
  it('starts from the snapshot and sees a component come, expose, and go', async () => {
    const b = await scope.broker();
    const [early, watch] = await scope.connectAll(b, 'early', 'watch');
    early.expose('ping', () => 'pong');
    await roundTrip(early);
    const got = collect(watch.presence$(), 1);
    const now = latest(got.values);
    expect(await got.done).toEqual<PresenceState[]>([
      [{ cid: 'early', exposes: ['ping'] }, { cid: 'watch', exposes: [] }],
    ]);
    const srv = scope.track(await connect(`${b.url!}/srv`));
    srv.expose('count', () => 1);
    await waitFor(() => now()?.some((c) => c.cid === 'srv' && c.exposes.includes('count')) === true,
      { what: 'srv and its method to appear' });
    await srv.close();
    await waitFor(() => now()?.every((c) => c.cid !== 'srv') === true, { what: 'srv to disappear' });
    expect(now()).toEqual([{ cid: 'early', exposes: ['ping'] }, { cid: 'watch', exposes: [] }]);
    // A late subscriber gets the current state at once (shared, replayed).
    expect(await collect(watch.presence$(), 1).done).toEqual([now()]);
  });

  it('lists the components whose methods match a pattern with services$', async () => {
    const b = await scope.broker();
    const [s1, s2, watch] = await scope.connectAll(b, 's1', 's2', 'watch');
    s1.expose('plant/a/read', () => 1);
    s2.expose('plant/b/read', () => 2);
    s2.expose('other', () => 3);
    await roundTrip(s1, s2);
    const got = collect(watch.services$('plant/*/read'), 1);
    expect(await got.done).toEqual([[{ cid: 's1', exposes: ['plant/a/read'] }, { cid: 's2', exposes: ['plant/b/read'] }]]);
  });

  it('emits from whenAvailable$ once an exposer of the method is up, then completes', async () => {
    const b = await scope.broker();
    const watch = await scope.connect(b, 'watch');
    const got = collect(watch.whenAvailable$('late'), 1);
    await roundTrip(watch);
    expect(got.values).toEqual([]);
    const srv = await scope.connect(b, 'srv');
    srv.expose('late', () => 'here');
    expect(await got.done).toEqual(['srv']);
    await waitFor(() => got.completed, { what: 'completion' });
    expect(await watch.rpc('late')).toBe('here');
  });
});

describe('gather$', () => {
  it('calls every exposer and completes at the quorum, cancelling the slowest', async () => {
    const b = await scope.broker();
    const [s1, s2, s3, cli] = await scope.connectAll(b, 's1', 's2', 's3', 'cli');
    let released = 0;
    s1.expose('health', () => 'ok-1');
    s2.expose('health', () => timer(30).pipe(map(() => 'ok-2')));
    s3.expose('health', () => NEVER.pipe(finalize(() => released++)));
    await roundTrip(s1, s2, s3);
    const got = collect(cli.gather$<string>('health', [], { quorum: 2 }), 2);
    expect(await got.done).toEqual([{ from: 's1', result: 'ok-1' }, { from: 's2', result: 'ok-2' }]);
    await waitFor(() => got.completed, { what: 'the gather to complete' });
    await waitFor(() => released === 1, { what: 'the slow call to be cancelled' });
    expect(b.stats().pendingRpcs).toBe(0);
  });

  it('waits for every exposer by default and skips the caller itself', async () => {
    const b = await scope.broker();
    const [s1, s2, cli] = await scope.connectAll(b, 's1', 's2', 'cli');
    for (const s of [s1, s2, cli]) s.expose('who', () => s.name);
    await roundTrip(s1, s2, cli);
    const got = collect(cli.gather$<string>('who', []), 2);
    expect((await got.done).map((r) => r.result).sort()).toEqual(['s1', 's2']);
    await waitFor(() => got.completed, { what: 'the gather to complete' });
  });

  it('fails with QuorumError when failures leave the quorum unmet, and when nobody exposes', async () => {
    const b = await scope.broker();
    const [s1, s2, cli] = await scope.connectAll(b, 's1', 's2', 'cli');
    s1.expose('vote', () => 'yes');
    s2.expose('vote', () => { throw new Error('abstain'); });
    await roundTrip(s1, s2);
    const got = collect(cli.gather$('vote', [], { quorum: 2 }), 2);
    await expect(got.done).rejects.toThrow(/errored/);
    expect(got.error).toBeInstanceOf(QuorumError);
    expect(got.error).toMatchObject({ code: 'QUORUM', method: 'vote', quorum: 2 });
    const none = collect(cli.gather$('nobody', []), 1);
    await expect(none.done).rejects.toThrow(/errored/);
    expect(none.error).toMatchObject({ code: 'QUORUM', answered: 0 });
  });

  it('fails with QuorumError at the timeout', async () => {
    const b = await scope.broker();
    const [s1, s2, cli] = await scope.connectAll(b, 's1', 's2', 'cli');
    s1.expose('slow', () => 'fast');
    s2.expose('slow', () => NEVER);
    await roundTrip(s1, s2);
    const got = collect(cli.gather$('slow', [], { timeout: 200 }), 2);
    await expect(got.done).rejects.toThrow(/errored after 1/);
    expect(got.error).toMatchObject({ code: 'QUORUM', answered: 1 });
  });
});
