/**
 * Shared helpers of the integration tests: a per-test scope that closes every broker,
 * component and raw socket it opened (STYLE §8, §9), a bounded poll, a message collector that
 * fails with what it did receive, a round trip that proves a link has been processed, and a raw
 * WebSocket client for wire transcripts.
 */
import { afterEach } from 'vitest';
import type { Observable, Subscription } from 'rxjs';
import WebSocket from 'ws';
import { broker, type Broker, type BrokerOptions } from '../../src/broker/index.js';
import { connect, type Component, type ComponentOptions } from '../../src/index.js';

/** What a test opens; `useScope` closes all of it after each test. */
export interface Scope {
  /** A broker on 127.0.0.1, port 0 unless `options.port` says otherwise. */
  broker(options?: BrokerOptions): Promise<Broker>;
  /** `connect()` to `b` as `name` (anonymous without one). */
  connect(b: Broker, name?: string, options?: ComponentOptions): Promise<Component>;
  /** Connect one component per name, in order. */
  connectAll(b: Broker, ...names: string[]): Promise<Component[]>;
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
  afterEach(async () => {
    const [c, b] = [clients, brokers];
    clients = [];
    brokers = [];
    await Promise.all(c.map((r) => r.close()));
    await Promise.all(b.map((r) => r.close()));
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
    async connectAll(b, ...names) {
      const out: Component[] = [];
      for (const name of names) out.push(await scope.connect(b, name));
      return out;
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
  private readonly closedPromise: Promise<void>;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      this.frames.push(isBinary ? bytes : bytes.toString('utf8'));
      this.arrivals.push(RawClient.sequence++);
      this.waiter?.();
    });
    this.closedPromise = new Promise((resolve) => ws.once('close', () => {
      this.closed = true;
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
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    if (this.ws.readyState !== WebSocket.CLOSING) this.ws.close();
    return this.closedPromise;
  }

  private describe(): string {
    return JSON.stringify(this.frames.map((f) => (typeof f === 'string' ? f : toHex(f))));
  }
}
