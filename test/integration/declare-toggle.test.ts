/**
 * Declarations in every order (README "Concepts": subscribe$ is "declared at the broker on the
 * first subscriber, undeclared after the last"; expose "returns its teardown"): an application
 * that subscribes, unsubscribes, exposes and unexposes in any interleaving — in one turn, across
 * turns, while its link is cut and while it comes back — must end with exactly what it last
 * asked for at the broker: messages for every topic it still subscribes, no frame for one it
 * left, calls for the methods it still exposes, MethodNotFoundError for the others.
 */
import { describe, expect, it } from 'vitest';
import { filter, firstValueFrom, tap as tapOperator, type Subscription } from 'rxjs';
import { decodeCbor } from '../../src/codec/index.js';
import type { Frame } from '../../src/codec/wire.js';
import { connect, MethodNotFoundError, type Component } from '../../src/index.js';
import type { Msg } from '../../src/protocol/messages.js';
import type { Link } from '../../src/transport/link.js';
import { dialWebSocket } from '../../src/transport/ws-link.js';
import { decoded, relay, roundTrip, tappedDial, useScope, waitFor, type Tap } from './helpers.js';

const scope = useScope();

/** A small deterministic PRNG (mulberry32), so a failing seed can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const TOPICS = ['t0', 't1', 't2', 't3'];
const METHODS = ['m0', 'm1', 'm2'];

describe('declarations in every order', () => {
  for (const seed of [1, 2, 3]) {
    it(`ends with what was last asked for, through random toggles and link cuts (seed ${seed})`, async () => {
      const rand = prng(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
      const b = await scope.broker();
      const cut = scope.track(await relay(b.port!));
      const tap: Tap = { sent: [], received: [] };
      const node = scope.track(await connect(`${cut.url}/node`,
        { dial: tappedDial(tap), reconnect: { initialDelay: 5, maxDelay: 20, jitter: 0 } }));
      const [pub] = await scope.connectAll(b, 'pub');
      const subs = new Map<string, Subscription[]>(TOPICS.map((t) => [t, []]));
      const got = new Map<string, unknown[]>(TOPICS.map((t) => [t, []]));
      const exposed = new Map<string, () => void>();
      const statuses: string[] = [];
      node.status$.subscribe((st) => statuses.push(st.type));

      const step = (): void => {
        const r = rand();
        if (r < 0.55) {
          const topic = pick(TOPICS);
          const list = subs.get(topic)!;
          // Up to two local subscribers of one shared stream: the pattern is declared once.
          if (list.length < 2 && (list.length === 0 || rand() < 0.5)) {
            list.push(node.subscribe$(topic).subscribe((m) => got.get(topic)!.push(m.args[0])));
          } else {
            list.splice(Math.floor(rand() * list.length), 1)[0]!.unsubscribe();
          }
        } else {
          const method = pick(METHODS);
          const teardown = exposed.get(method);
          if (teardown === undefined) exposed.set(method, node.expose(method, () => method));
          else {
            teardown();
            exposed.delete(method);
          }
        }
      };

      for (let round = 0; round < 8; round++) {
        const cutAt = rand() < 0.6 ? Math.floor(rand() * 30) : -1;
        let cutFrom = -1;
        for (let i = 0; i < 30; i++) {
          if (i === cutAt) {
            cutFrom = statuses.length;
            cut.cut();
          }
          step();
          // Some toggles share a turn, others are a turn (or a socket event) apart.
          const pause = rand();
          if (pause < 0.2) await Promise.resolve();
          else if (pause < 0.35) await new Promise<void>((resolve) => setImmediate(resolve));
        }
        // Settle: down and up again after a cut, up (its declarations answered), then one round
        // trip past the last toggle.
        await waitFor(() => {
          const down = cutFrom < 0 ? -1 : statuses.indexOf('down', cutFrom);
          return (cutFrom < 0 || down >= 0) && statuses.at(-1) === 'up' && statuses.lastIndexOf('up') > down;
        }, { what: `round ${round}: the link up${cutFrom < 0 ? '' : ' after the cut'}` });
        await roundTrip(node);

        const wanted = TOPICS.filter((t) => subs.get(t)!.length > 0);
        const mark = tap.received.length;
        for (const t of TOPICS) got.set(t, []);
        for (const t of TOPICS) pub.publish(t, `r${round}`);
        // Each local subscriber gets its copy of the one delivery.
        const copies = (t: string): unknown[] => subs.get(t)!.map(() => `r${round}`);
        await waitFor(() => wanted.every((t) => got.get(t)!.length >= copies(t).length),
          { what: `round ${round}: deliveries on ${wanted.join(', ')}` });
        await roundTrip(pub, node);
        const delivered = decoded(tap.received.slice(mark)).flatMap((m) => (m.type === 'pub' ? [m.topic] : []));
        expect({ round, topics: [...new Set(delivered)].sort() }).toEqual({ round, topics: wanted });
        for (const t of wanted) expect({ round, t, got: got.get(t) }).toEqual({ round, t, got: copies(t) });

        for (const method of METHODS) {
          const answer = await pub.rpc(method).catch((err: unknown) => err);
          if (exposed.has(method)) expect({ round, method, answer }).toEqual({ round, method, answer: method });
          else expect({ round, method, notFound: answer instanceof MethodNotFoundError }).toEqual({ round, method, notFound: true });
        }
      }
      for (const list of subs.values()) for (const s of list) s.unsubscribe();
    });
  }

  it('withdraws a subscription and a method toggled off, on and off again while the withdrawal is still unanswered', async () => {
    const b = await scope.broker();
    const cut = scope.track(await relay(b.port!));
    const tap: Tap = { sent: [], received: [] };
    const node: Component = scope.track(await connect(`${cut.url}/node`,
      { dial: tappedDial(tap), reconnect: { initialDelay: 5, maxDelay: 20, jitter: 0 } }));
    const [pub] = await scope.connectAll(b, 'pub');
    let s = node.subscribe$('x').subscribe();
    let unexpose = node.expose('m', () => 'node');
    await roundTrip(node);
    // Off, on, off in one turn, and the link cut in the same turn: whichever of these frames
    // reached the broker, the last word is "off".
    s.unsubscribe();
    unexpose();
    s = node.subscribe$('x').subscribe();
    unexpose = node.expose('m', () => 'node');
    s.unsubscribe();
    unexpose();
    cut.cut();
    await firstValueFrom(node.status$.pipe(filter((st) => st.type === 'down')));
    await firstValueFrom(node.status$.pipe(filter((st) => st.type === 'up')));
    await roundTrip(node);
    const mark = tap.received.length;
    pub.publish('x', 1);
    await roundTrip(pub, node);
    expect(decoded(tap.received.slice(mark)).filter((m) => m.type === 'pub')).toEqual([]);
    expect(await pub.rpc('m').catch((err: unknown) => err)).toBeInstanceOf(MethodNotFoundError);
  });

  it('withdraws again after a login what was withdrawn twice when the second withdrawal died with the link', async () => {
    // off (answered), on (answered), off (lost with the link): the first answer must not clear
    // the second withdrawal, which the next login has to repeat.
    const b = await scope.broker();
    const tap: Tap = { sent: [], received: [] };
    let script: { seen: number; onId?: bigint; closing: boolean } | undefined;
    const read = (f: Frame): Msg | undefined => (typeof f === 'string' ? undefined : decodeCbor(f));
    const dial = async (url: string): Promise<Link> => {
      const link = await dialWebSocket(url);
      return {
        frames$: link.frames$.pipe(tapOperator((f) => {
          tap.received.push(f);
          const m = read(f);
          if (script?.onId !== undefined && m?.type === 'response' && m.id === script.onId && !script.closing) {
            script.closing = true;
            // After the component has read this answer: the link dies with the withdrawal unsent.
            queueMicrotask(() => link.close(4000, 'test: link lost'));
          }
        })),
        send: (f) => {
          tap.sent.push(f);
          const m = read(f);
          if (script !== undefined && m?.type === 'admin' && (m.topic === 'x' || m.topic === 'm')) {
            script.seen++;
            // Frames 1-4: off x, off m (answered), on x, on m; the 4th's answer closes the link.
            if (script.seen === 4) script.onId = m.id;
            if (script.seen === 5 || script.seen === 6) return; // the second withdrawals, lost with the link
          }
          link.send(f);
        },
        close: (code, reason) => link.close(code, reason),
        get isOpen() { return link.isOpen; },
        get bufferedAmount() { return link.bufferedAmount; },
        remote: link.remote,
      };
    };
    const node: Component = scope.track(await connect(`${b.url!}/node`, { dial, reconnect: { initialDelay: 5, maxDelay: 20, jitter: 0 } }));
    const [pub, other] = await scope.connectAll(b, 'pub', 'other');
    other.expose('m', () => 'other');
    let s = node.subscribe$('x').subscribe();
    let unexpose = node.expose('m', () => 'node');
    await roundTrip(node, other);
    const statuses: string[] = [];
    node.status$.subscribe((st) => statuses.push(st.type));

    script = { seen: 0, closing: false };
    // In one turn: the answers to the first withdrawals arrive after the second ones were sent.
    s.unsubscribe();
    unexpose();
    s = node.subscribe$('x').subscribe();
    unexpose = node.expose('m', () => 'node');
    s.unsubscribe();
    unexpose();
    await waitFor(() => statuses.includes('down') && statuses.at(-1) === 'up', { what: 'the link lost and up again' });
    script = undefined;
    await roundTrip(node);

    const mark = tap.received.length;
    pub.publish('x', 1);
    await roundTrip(pub, node);
    expect(decoded(tap.received.slice(mark)).filter((m) => m.type === 'pub')).toEqual([]);
    const answers: unknown[] = [];
    for (let i = 0; i < 4; i++) answers.push(await pub.rpc('m').catch((e: unknown) => e));
    expect(answers).toEqual(['other', 'other', 'other', 'other']);
  });
});
