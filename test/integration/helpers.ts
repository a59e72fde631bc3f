/**
 * Shared helpers of the integration tests: a per-test scope that closes every broker,
 * component and raw socket it opened and then fails the test on leaked sockets or timers
 * (STYLE §8, §9), a bounded poll, a message collector that fails with what it did receive, a
 * round trip that proves a link has been processed, a raw WebSocket client for wire
 * transcripts, a TCP relay that cuts links, and a dialer that records a component's frames.
 */
import { execFileSync } from 'node:child_process';
import { createServer, connect as connectTcp, type AddressInfo, type Socket } from 'node:net';
import { afterEach, beforeEach, expect } from 'vitest';
import { tap as tapOperator, type Observable, type Subscription } from 'rxjs';
import WebSocket from 'ws';
import { broker, type Broker, type BrokerOptions } from '../../src/broker/index.js';
import { decodeCbor, encodeCbor } from '../../src/codec/index.js';
import type { Frame } from '../../src/codec/wire.js';
import { connect, type Component, type ComponentOptions } from '../../src/index.js';
import type { Msg, ResponseMsg } from '../../src/protocol/messages.js';
import type { Link } from '../../src/transport/link.js';
import type { Logger } from '../../src/index.js';
import { dialWebSocket } from '../../src/transport/ws-link.js';

/** What a test opens; `useScope` closes all of it after each test. */
export interface Scope {
  /** A broker on 127.0.0.1, port 0 unless `options.port` says otherwise. */
  broker(options?: BrokerOptions): Promise<Broker>;
  /** `connect()` to `b` as `name` (anonymous without one). */
  connect(b: Broker, name?: string, options?: ComponentOptions): Promise<Component>;
  /** Connect one component per name, in order; resolves with them as a tuple. */
  connectAll<N extends string[]>(b: Broker, ...names: N): Promise<{ [K in keyof N]: Component }>;
  /** A raw `ws` client of `b` that sends and records frames as they are. */
  raw(b: Broker): Promise<RawClient>;
  /** Close `resource` with the rest of the scope (components before brokers). */
  track<T extends { close(): unknown }>(resource: T): T;
}

/**
 * Register an `afterEach` that closes what each test opened: raw sockets and components first,
 * then brokers, so a component never goes looking for a broker that is gone.
 */
export function useScope(): Scope {
  let clients: { close(): unknown }[] = [];
  let brokers: Broker[] = [];
  let baseline = new Map<string, number>();
  let timers: TimerTracker | undefined;
  beforeEach(() => {
    baseline = socketCounts();
    timers = trackTimers();
  });
  afterEach(async () => {
    const [c, b] = [clients, brokers];
    clients = [];
    brokers = [];
    try {
      await Promise.all(c.map((r) => r.close()));
      await Promise.all(b.map((r) => r.close()));
      // STYLE §8.4: a test fails on leaked sockets or timers. Sockets finish closing a few
      // event-loop turns after close() (the TCP close handshake), hence the bounded poll.
      await waitFor(() => leakedSockets(baseline).length === 0 && timers!.live().length === 0,
        { timeout: 2_000, interval: 5, what: 'sockets and timers to be released' }).catch(() => {
        const leaks = [...leakedSockets(baseline), ...timers!.live()];
        throw new Error(`leaked after the test:\n  ${leaks.join('\n  ')}`);
      });
    } finally {
      timers?.restore();
    }
  });
  const scope: Scope = {
    async broker(options = {}) {
      const b = await broker({ port: 0, host: '127.0.0.1', ...options });
      brokers.push(b);
      return b;
    },
    async connect(b, name, options) {
      const c = await connect(name === undefined ? b.url! : `${b.url!}/${name}`, options);
      clients.push(c);
      return c;
    },
    async connectAll<N extends string[]>(b: Broker, ...names: N) {
      const out: Component[] = [];
      for (const name of names) out.push(await scope.connect(b, name));
      return out as { [K in keyof N]: Component };
    },
    async raw(b) {
      const r = await RawClient.open(b.url!);
      clients.push(r);
      return r;
    },
    track(resource) {
      clients.push(resource);
      return resource;
    },
  };
  return scope;
}

const SOCKETS = new Set(['TCPSocketWrap', 'TCPServerWrap']);

/** Counts of the TCP socket and server handles this process holds. */
function socketCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) {
    if (SOCKETS.has(kind)) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  return counts;
}

/** Socket kinds held now beyond `baseline`, as `kind +n`. */
function leakedSockets(baseline: Map<string, number>): string[] {
  return [...socketCounts()].filter(([kind, n]) => n > (baseline.get(kind) ?? 0))
    .map(([kind, n]) => `${kind} +${n - (baseline.get(kind) ?? 0)}`);
}

interface TimerTracker {
  /** Timers created since tracking started that are still pending, with where they were made. */
  live(): string[];
  restore(): void;
}

/**
 * Record every `setTimeout`/`setInterval` made from now on (RxJS schedulers and `ws` call the
 * globals at call time), so a test can tell which of its timers are still pending. Counting
 * `process.getActiveResourcesInfo()` timers is not enough: the runner's own timers come and go.
 */
function trackTimers(): TimerTracker {
  const created = new Map<NodeJS.Timeout, string>();
  const g = globalThis as unknown as Record<'setTimeout' | 'setInterval', (...args: unknown[]) => NodeJS.Timeout>;
  const original = { setTimeout: g.setTimeout, setInterval: g.setInterval };
  for (const name of ['setTimeout', 'setInterval'] as const) {
    const make = original[name];
    g[name] = Object.assign((...args: unknown[]) => {
      const timer = make(...args);
      created.set(timer, `${name}(${String(args[1] ?? 0)} ms) ${origin(new Error().stack)}`);
      return timer;
    }, make);
  }
  return {
    live: () => [...created].filter(([t]) => !(t as unknown as { _destroyed: boolean })._destroyed).map(([, at]) => at),
    restore: () => {
      g.setTimeout = original.setTimeout;
      g.setInterval = original.setInterval;
    },
  };
}

/** The first stack frame outside this file and node internals. */
function origin(stack: string | undefined): string {
  const frames = (stack ?? '').split('\n').slice(2).map((l) => l.trim());
  return frames.find((f) => !f.includes('helpers.ts') && !f.includes('node:')) ?? frames[0] ?? '?';
}

/** Resolves once `read()` (a child process's output so far) matches `re`, polling; rejects after `ms`. */
export async function waitForMatch(read: () => string, re: RegExp, ms = 8_000): Promise<RegExpExecArray> {
  const deadline = Date.now() + ms;
  for (;;) {
    const m = re.exec(read());
    if (m !== null) return m;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${re} in:\n${read()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Send `msg` (CBOR) on a raw socket and resolve with the RESPONSE carrying its id; other frames are passed over. */
export async function rawRequest(raw: RawClient, msg: Msg & { id: bigint }): Promise<ResponseMsg> {
  raw.sendBinary(encodeCbor(msg));
  for (;;) {
    const reply = decodeCbor(await raw.next() as Uint8Array);
    if (reply.type === 'response' && reply.id === msg.id) return reply;
  }
}

/**
 * Poll `condition` every `interval` ms until it holds; reject after `timeout` ms naming `what`.
 * Only for states the protocol announces with no event.
 */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  { timeout = 5_000, interval = 10, what = 'condition' }: { timeout?: number; interval?: number; what?: string } = {},
): Promise<void> {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (await condition()) return;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

/** Call until the call resolves (a route not in place yet makes it reject), then its value. */
export async function untilResolved<T>(
  call: () => Promise<T>,
  { timeout = 10_000, interval = 100, what = 'the call to go through' }: { timeout?: number; interval?: number; what?: string } = {},
): Promise<T> {
  let result: T | undefined;
  await waitFor(async () => {
    try {
      result = await call();
      return true;
    } catch {
      return false;
    }
  }, { timeout, interval, what });
  return result!;
}

/** Values of a stream as they arrive; `done` settles once `n` have arrived. */
export interface Collector<T> {
  /** Everything received so far, including values past the n-th. */
  readonly values: T[];
  /** Resolves with the first `n` values; rejects on timeout, error or early completion. */
  readonly done: Promise<T[]>;
  /** True once the stream completed. */
  readonly completed: boolean;
  /** The error the stream ended with, if any. */
  readonly error: unknown;
  /** Stop listening. */
  unsubscribe(): void;
}

/**
 * Subscribe to `source` now and collect its values. The subscription stays open after the
 * n-th value (so a test can check that nothing more arrives) until `unsubscribe()` or the
 * stream ends.
 */
export function collect<T>(source: Observable<T>, n: number,
  { timeout = 5_000, what = 'messages' }: { timeout?: number; what?: string } = {}): Collector<T> {
  const values: T[] = [];
  let settle!: { resolve: (v: T[]) => void; reject: (e: unknown) => void };
  const done = new Promise<T[]>((resolve, reject) => { settle = { resolve, reject }; });
  done.catch(() => undefined); // reported when awaited; never an unhandled rejection
  let settled = false;
  const finish = (err?: unknown): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    if (err === undefined) settle.resolve(values.slice(0, n));
    else settle.reject(err);
  };
  const timer = setTimeout(() => finish(new Error(
    `expected ${n} ${what} within ${timeout} ms, got ${values.length}: ${show(values)}`)), timeout);
  const state = { completed: false, error: undefined as unknown };
  const subscription: Subscription = source.subscribe({
    next: (value) => {
      values.push(value);
      if (values.length >= n) finish();
    },
    error: (err: unknown) => {
      state.error = err;
      finish(new Error(`${what}: stream errored after ${values.length} of ${n}: ${String(err)}`, { cause: err }));
    },
    complete: () => {
      state.completed = true;
      if (values.length < n) finish(new Error(`${what}: stream completed after ${values.length} of ${n}`));
    },
  });
  if (n === 0) finish();
  return {
    values, done,
    get completed() { return state.completed; },
    get error() { return state.error; },
    unsubscribe: () => {
      subscription.unsubscribe();
      finish(new Error(`${what}: unsubscribed after ${values.length} of ${n}`));
    },
  };
}

/**
 * One `rid` RPC on each component, in order. Frames on one link are processed in order, so
 * when the reply arrives the broker has handled everything the component sent before, and the
 * component has received everything the broker sent it before (spec §1.1: one ordered link).
 * Awaiting `roundTrip(publisher, receiver)` after a publish therefore proves that a delivery
 * that has not arrived will not arrive.
 */
export async function roundTrip(...components: Component[]): Promise<void> {
  for (const c of components) await c.rpc('rid');
}

/** `promise`'s rejection, which must be an instance of `type` (a fulfilment fails the test). */
export async function rejection<E>(promise: Promise<unknown>, type: abstract new (...args: never[]) => E): Promise<E> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(type);
  return err as E;
}

/** A readable form of collected values for failure messages (bigint and bytes aware). */
export function show(values: unknown): string {
  try {
    return JSON.stringify(values, (_k, v: unknown) => typeof v === 'bigint' ? `${v}n`
      : v instanceof Uint8Array ? `h'${Buffer.from(v).toString('hex')}'` : v);
  } catch {
    return String(values);
  }
}

// ---- wire level ---------------------------------------------------------------------------

/** Bytes of hex written as the vectors write it (spaces allowed). */
export function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

/** Spaced lower-case hex, for byte-for-byte comparisons with readable diffs. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex').replace(/(..)(?!$)/g, '$1 ');
}

/** The CBOR text-string encoding of a short ASCII/UTF-8 string (< 24 bytes), as hex. */
export function textHex(s: string): string {
  const bytes = Buffer.from(s, 'utf8');
  if (bytes.length >= 24) throw new Error('textHex handles strings under 24 bytes');
  return toHex(Buffer.concat([Buffer.of(0x60 + bytes.length), bytes]));
}

/** One frame received by a raw client: bytes for binary frames, a string for text frames. */
export type RawFrame = Buffer | string;

/**
 * A bare `ws` client: what a foreign peer (the PY or JL reference) puts on the wire, frame by
 * frame, with every frame it receives kept in order.
 */
export class RawClient {
  /** Every frame received, in order. */
  readonly frames: RawFrame[] = [];
  /** Arrival order across all raw clients of the process (for cross-link ordering checks). */
  static sequence = 0;
  readonly arrivals: number[] = [];
  private cursor = 0;
  private waiter: (() => void) | undefined;
  private closed = false;
  /** The close code the link ended with, once closed. */
  closeCode: number | undefined;
  private readonly closedPromise: Promise<void>;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      this.frames.push(isBinary ? bytes : bytes.toString('utf8'));
      this.arrivals.push(RawClient.sequence++);
      this.waiter?.();
    });
    this.closedPromise = new Promise((resolve) => ws.once('close', (code: number) => {
      this.closed = true;
      this.closeCode = code;
      this.waiter?.();
      resolve();
    }));
  }

  static open(url: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      ws.once('error', reject);
      ws.once('open', () => {
        ws.off('error', reject);
        ws.on('error', () => undefined);
        resolve(new RawClient(ws));
      });
    });
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Send a binary frame (bytes or vector hex) or, for a plain string, a text frame. */
  sendBinary(bytes: Uint8Array | string): void {
    this.ws.send(typeof bytes === 'string' ? hex(bytes) : bytes, { binary: true });
  }

  sendText(text: string): void {
    this.ws.send(text, { binary: false });
  }

  /** Stop reading from the socket: a subscriber that falls behind (its frames wait in the broker). */
  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    this.ws.resume();
  }

  /** Resolves once the link has closed (either side). */
  get closedAt(): Promise<void> {
    return this.closedPromise;
  }

  /** The next frame not yet returned by `next`; rejects after `timeout` ms or on close. */
  async next(timeout = 5_000): Promise<RawFrame> {
    const deadline = Date.now() + timeout;
    while (this.cursor >= this.frames.length) {
      if (this.closed) throw new Error(`raw client closed while waiting for frame #${this.cursor}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no frame #${this.cursor} within ${timeout} ms; got ${this.describe()}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => { clearTimeout(t); resolve(); };
      });
      this.waiter = undefined;
    }
    return this.frames[this.cursor++]!;
  }

  /** The next frame, which must be binary; as spaced hex. */
  async nextHex(timeout?: number): Promise<string> {
    const frame = await this.next(timeout);
    if (typeof frame === 'string') throw new Error(`expected a binary frame, got text ${frame}`);
    return toHex(frame);
  }

  /** The next frame, which must be text. */
  async nextText(timeout?: number): Promise<string> {
    const frame = await this.next(timeout);
    if (typeof frame !== 'string') throw new Error(`expected a text frame, got binary ${toHex(frame)}`);
    return frame;
  }

  /** Frames received but not yet read by `next`. */
  get unread(): RawFrame[] {
    return this.frames.slice(this.cursor);
  }

  close(): Promise<void> {
    // A paused socket never reads the peer's close (or its cut): read again so that it ends.
    if (this.ws.isPaused) this.ws.resume();
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    if (this.ws.readyState !== WebSocket.CLOSING) this.ws.close();
    return this.closedPromise;
  }

  private describe(): string {
    return JSON.stringify(this.frames.map((f) => (typeof f === 'string' ? f : toHex(f))));
  }
}

// ---- network faults -----------------------------------------------------------------------

/** A TCP relay in front of a broker, to cut links without closing either end's process. */
export interface Relay {
  /** `ws://127.0.0.1:<relay port>`: dial this instead of the broker. */
  readonly url: string;
  /** Destroy every relayed connection on both sides (a dropped network path). */
  cut(): void;
  close(): Promise<void>;
}

/** Start a relay to `127.0.0.1:port`. */
export function relay(port: number): Promise<Relay> {
  const pairs = new Set<[Socket, Socket]>();
  const server = createServer((inbound) => {
    const outbound = connectTcp(port, '127.0.0.1');
    const pair: [Socket, Socket] = [inbound, outbound];
    pairs.add(pair);
    const drop = (): void => {
      pairs.delete(pair);
      inbound.destroy();
      outbound.destroy();
    };
    inbound.on('error', drop).on('close', drop);
    outbound.on('error', drop).on('close', drop);
    inbound.pipe(outbound).pipe(inbound);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const { port: own } = server.address() as AddressInfo;
    let closing: Promise<void> | undefined;
    const cut = (): void => {
      for (const [a, b] of [...pairs]) {
        a.destroy();
        b.destroy();
      }
      pairs.clear();
    };
    resolve({
      url: `ws://127.0.0.1:${own}`,
      cut,
      close: () => closing ??= new Promise<void>((done) => {
        cut();
        server.close(() => done());
      }),
    });
  }));
}

/** Frames a component sent and received, recorded by {@link tappedDial}. */
export interface Tap { readonly sent: Frame[]; readonly received: Frame[] }

/**
 * A dialer for `ComponentOptions.dial` that records every frame of every link it opens.
 *
 * @example
 * ```ts
 * const tap = { sent: [], received: [] };
 * const node = await connect(url, { dial: tappedDial(tap) });
 * ```
 */
export function tappedDial(tap: Tap): (url: string) => Promise<Link> {
  return async (url) => {
    const link = await dialWebSocket(url);
    return {
      frames$: link.frames$.pipe(tapOperator((f) => tap.received.push(f))),
      send: (f) => { tap.sent.push(f); link.send(f); },
      close: (code, reason) => link.close(code, reason),
      get isOpen() { return link.isOpen; },
      get bufferedAmount() { return link.bufferedAmount; },
      remote: link.remote,
    };
  };
}

/** The CBOR frames among `frames` decoded; text frames are skipped. */
export function decoded(frames: Frame[]): Msg[] {
  return frames.filter((f): f is Uint8Array => typeof f !== 'string').map((f) => decodeCbor(f));
}

/** The openssl binary is there (it makes the self-signed certificates of the TLS tests). */
export const hasOpenssl = ((): boolean => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** A logger that keeps its warn lines (children share them). */
export function warnRecorder(): Logger & { warnings: { obj: Record<string, unknown>; msg: string }[] } {
  const warnings: { obj: Record<string, unknown>; msg: string }[] = [];
  const log: Logger & { warnings: typeof warnings } = {
    warnings,
    debug: () => undefined, info: () => undefined, error: () => undefined,
    warn: (obj: unknown, msg?: string) => { warnings.push({ obj: obj as Record<string, unknown>, msg: msg ?? '' }); },
    child: () => log,
  };
  return log;
}

/** A raw CBOR subscriber of `topic` (anonymous), once the broker has confirmed it. */
export async function rawSubscriber(scope: Scope, b: Broker, topic: string): Promise<RawClient> {
  const raw = await scope.raw(b);
  raw.sendBinary(`84 03 48 01 00 00 00 00 00 00 00 ${textHex(topic)} a1 63 63 6d 64 69 73 75 62 73 63 72 69 62 65`);
  expect(await raw.nextHex()).toMatch(/^84 04 48 01 00 00 00 00 00 00 00 00 f6$/);
  return raw;
}
