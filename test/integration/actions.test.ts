/**
 * Actions over a real broker: a goal, feedback, a result; preemption by a newer goal; cancel
 * by unsubscribing; a reference caller's one answer.
 */
import { describe, expect, it } from 'vitest';
import { finalize, interval, last, map, take, tap } from 'rxjs';
import { ActionPreemptedError, type ActionContext, type ActionEvent, type Component } from '../../src/index.js';
import { collect, roundTrip, useScope, waitFor } from './helpers.js';

const scope = useScope();

interface Goal { steps: number }

/** Expose `move`: one feedback per step, 20 ms apart, then `arrived after n`. */
function exposeMove(srv: Component): { signals: AbortSignal[]; finalized: number } {
  const probe = { signals: [] as AbortSignal[], finalized: 0 };
  srv.exposeAction('move', ({ steps }: Goal, { feedback, signal }: ActionContext<number>) => {
    probe.signals.push(signal);
    return interval(20).pipe(
      take(steps),
      tap((i) => feedback(i + 1)),
      last(),
      map(() => `arrived after ${steps}`),
      finalize(() => probe.finalized++),
    );
  });
  return probe;
}

describe('actions', () => {
  it('streams feedback, then the result, and completes', async () => {
    const b = await scope.broker();
    const [srv, cli] = await scope.connectAll(b, 'srv', 'cli');
    exposeMove(srv);
    await roundTrip(srv);
    const got = collect(cli.action$<number, string>('move', { steps: 3 }), 4);
    expect(await got.done).toEqual<ActionEvent<number, string>[]>([
      { type: 'feedback', value: 1 }, { type: 'feedback', value: 2 }, { type: 'feedback', value: 3 },
      { type: 'result', value: 'arrived after 3' },
    ]);
    await waitFor(() => got.completed, { what: 'the action to complete' });
    expect(b.stats().pendingRpcs).toBe(0);
  });

  it('takes a Promise handler, and one that returns a plain value', async () => {
    const b = await scope.broker();
    const [srv, cli] = await scope.connectAll(b, 'srv', 'cli');
    srv.exposeAction('charge', async (level: number, { feedback }: ActionContext<string>) => {
      feedback('plugged');
      await new Promise((resolve) => setTimeout(resolve, 10));
      return level * 2;
    });
    srv.exposeAction('noop', () => 'done');
    await roundTrip(srv);
    expect(await collect(cli.action$('charge', 21), 2).done)
      .toEqual([{ type: 'feedback', value: 'plugged' }, { type: 'result', value: 42 }]);
    expect(await collect(cli.action$('noop', null), 1).done).toEqual([{ type: 'result', value: 'done' }]);
  });

  it('preempts the running goal with a newer one: the first caller gets ActionPreemptedError', async () => {
    const b = await scope.broker();
    const [srv, first, second] = await scope.connectAll(b, 'srv', 'first', 'second');
    const probe = exposeMove(srv);
    await roundTrip(srv);
    const long = collect(first.action$('move', { steps: 1_000 }), 1_000);
    await waitFor(() => long.values.length >= 1, { what: 'the first goal to give feedback' });
    const short = collect(second.action$('move', { steps: 2 }), 3);
    expect((await short.done).at(-1)).toEqual({ type: 'result', value: 'arrived after 2' });
    await expect(long.done).rejects.toThrow(/errored/);
    expect(long.error).toBeInstanceOf(ActionPreemptedError);
    expect(long.error).toMatchObject({ code: 'ACTION_PREEMPTED', action: 'move' });
    // The preempted goal's handler was released and told why.
    expect(probe.signals[0]!.aborted).toBe(true);
    expect(probe.signals[0]!.reason).toBeInstanceOf(ActionPreemptedError);
    expect(probe.signals[1]!.aborted).toBe(false);
    await waitFor(() => probe.finalized === 2, { what: 'both handlers to end' });
    await waitFor(() => short.completed, { what: 'the second goal to complete' });
    expect(b.stats().pendingRpcs).toBe(0);
  });

  it('cancels the goal when its caller unsubscribes', async () => {
    const b = await scope.broker();
    const [srv, cli] = await scope.connectAll(b, 'srv', 'cli');
    const probe = exposeMove(srv);
    await roundTrip(srv);
    const got = collect(cli.action$('move', { steps: 1_000 }), 2);
    await got.done;
    got.unsubscribe();
    await waitFor(() => probe.finalized === 1, { what: 'the handler to be released' });
    expect(probe.signals[0]!.aborted).toBe(true);
    await roundTrip(cli, srv);
    expect(b.stats().pendingRpcs).toBe(0);
  });

  it('answers a caller that accepts no stream with the result item', async () => {
    const b = await scope.broker();
    const [srv, cli] = await scope.connectAll(b, 'srv', 'cli');
    exposeMove(srv);
    await roundTrip(srv);
    expect(await cli.rpc('move', { steps: 2 })).toEqual({ type: 'result', value: 'arrived after 2' });
  });
});
