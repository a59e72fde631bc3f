/**
 * The RPC + topic pair of live queries (protocol/live-query.ts): `live_<t>` and `unlive_<t>`
 * for every schema table, answered by the broker with the caller's identity, and the PUBs of
 * new rows sent to that caller alone. Per-connection state is bounded (`maxPerConnection`
 * queries, each holding at most `maxPending` rows until its snapshot is out) and released on
 * `unlive_<t>`, on the connection's end and on `close()`.
 */
import { asyncScheduler, type Observable } from 'rxjs';
import { encodeResult } from '../dataframe/index.js';
import { errorText } from '../internal/logger.js';
import {
  LIVE_OPTIONS, LiveQueryEndedError, LiveQueryLimitError, LiveQueryUnsupportedError, QueryError, UnknownTableError,
  liveErrorText, liveMethod, unliveMethod,
} from '../protocol/live-query.js';
import type { PubMsg } from '../protocol/messages.js';
import type { LiveQuery, LiveQueryHub, PreparedQuery } from '../schema/live-query.js';
import { rowsFrame, rowsMaps } from '../schema/live-rows.js';
import type { Row, Schema, TableDef } from '../schema/types.js';
import { InvalidTopicError } from '../errors.js';
import { validateTopic } from '../topic/validate.js';
import type { CallerAwareHandler } from './rpc-routing.js';
import type { Session, Twin } from './twin.js';

/** Default of `maxPerConnection`. */
export const DEFAULT_LIVE_PER_CONNECTION = 32;

/** What the pair needs from the broker. */
export interface LiveRpcHost {
  /** Register a broker-local method told who calls it; returns its teardown. */
  exposeAware(method: string, handler: CallerAwareHandler): () => void;
  /** Each connection as it ends. */
  readonly detached$: Observable<Session>;
}

type Format = 'frame' | 'rows';
interface Running { readonly table: TableDef; query: LiveQuery | undefined; stopped: boolean }

/** The running pair; `size` counts live queries reserved or running. */
export interface LiveRpc {
  readonly size: number;
  close(): void;
}

function refusal(err: unknown): Error {
  const typed = err instanceof QueryError || err instanceof UnknownTableError || err instanceof LiveQueryUnsupportedError
    || err instanceof LiveQueryLimitError || err instanceof LiveQueryEndedError;
  return typed ? new Error(liveErrorText(err), { cause: err }) : err instanceof Error ? err : new Error(errorText(err));
}

function parseOptions(table: string, args: unknown[]): { where?: string; topic?: string; format: Format } {
  if (args.length > 1) throw new QueryError(table, `expected at most 1 argument, got ${args.length}`);
  const opts = (args[0] ?? {}) as Record<string, unknown>;
  if (typeof opts !== 'object' || Array.isArray(opts) || opts instanceof Uint8Array) {
    throw new QueryError(table, `expected a map with keys from {${LIVE_OPTIONS.join(', ')}}`);
  }
  for (const key of Object.keys(opts)) {
    if (!(LIVE_OPTIONS as readonly string[]).includes(key)) throw new QueryError(table, `unknown key '${key}' (allowed: ${LIVE_OPTIONS.join(', ')})`);
  }
  const { where, topic, format = 'frame' } = opts;
  if (where !== undefined && where !== null && typeof where !== 'string') throw new QueryError(table, "'where' must be a string");
  if (format !== 'frame' && format !== 'rows') throw new QueryError(table, "'format' must be 'frame' or 'rows'");
  if (topic !== undefined && topic !== null) {
    try { validateTopic(topic); } catch (err) {
      if (err instanceof InvalidTopicError) throw new QueryError(table, `'topic': ${err.message}`, { cause: err });
      throw err;
    }
  }
  return { where: (where ?? undefined) as string | undefined, topic: (topic ?? undefined) as string | undefined, format };
}

/**
 * Serve `live_<t>` / `unlive_<t>` for every table of `schema` on `host`.
 * @param hub The schema stage's live queries.
 */
export function attachLiveRpc(hub: LiveQueryHub, schema: Schema, host: LiveRpcHost,
  { maxPerConnection = DEFAULT_LIVE_PER_CONNECTION }: { maxPerConnection?: number } = {}): LiveRpc {
  const bySession = new Map<Session, Map<string, Running>>();
  let size = 0;

  const release = (session: Session, topic: string, running: Running): void => {
    if (running.stopped) return;
    running.stopped = true;
    running.query?.close();
    size--;
    const mine = bySession.get(session);
    if (mine?.get(topic) === running) mine.delete(topic);
    if (mine?.size === 0) bySession.delete(session);
  };

  const send = (session: Session, topic: string, args: unknown[]): void => {
    const msg: PubMsg = { type: 'pub', flags: 0, topic, args };
    try { session.send(msg); } catch (err) { session.dropped(err); }
  };

  const start = async (caller: Twin, table: TableDef, args: unknown[]): Promise<unknown> => {
    const { where, topic, format } = parseOptions(table.name, args);
    const prepared: PreparedQuery = hub.prepare(table, where, topic !== undefined);
    const encode = (rows: Row[]): unknown => (format === 'rows' ? rowsMaps(table.layout, rows) : encodeResult(rowsFrame(table.layout, rows)));
    const session = caller.session;
    if (topic === undefined || session === null) return encode(await readOrRefuse(table, () => hub.snapshot(prepared)));
    let mine = bySession.get(session);
    if (mine?.has(topic)) throw new QueryError(table.name, `topic '${topic}' already carries a live query of this connection`);
    if ((mine?.size ?? 0) >= maxPerConnection) throw new LiveQueryLimitError(table.name, maxPerConnection);
    // Reserved before the snapshot's await, so concurrent calls cannot pass the limit.
    const running: Running = { table, query: undefined, stopped: false };
    if (mine === undefined) bySession.set(session, mine = new Map());
    mine.set(topic, running);
    size++;
    try {
      running.query = await readOrRefuse(table, () => hub.open(prepared, {
        rows: (rows) => send(session, topic, [encode(rows)]),
        end: (err) => {
          release(session, topic, running);
          send(session, topic, [null, { code: err.code, reason: err.reason, message: err.message }]);
        },
      }));
    } catch (err) {
      release(session, topic, running);
      throw err;
    }
    if (running.stopped) running.query.close(); // the connection ended meanwhile
    // A macrotask: runs once the RESPONSE with the snapshot is on the link, so rows follow it.
    else asyncScheduler.schedule(() => running.query?.go());
    return encode(running.query.rows);
  };

  const stop = (caller: Twin, table: TableDef, topic: unknown): boolean => {
    const session = caller.session;
    const mine = session === null ? undefined : bySession.get(session);
    const running = typeof topic === 'string' ? mine?.get(topic) : undefined;
    if (running === undefined || running.table !== table) return false;
    release(session!, topic as string, running);
    return true;
  };

  const teardowns: (() => void)[] = [];
  for (const table of schema.tables) {
    teardowns.push(host.exposeAware(liveMethod(table.name), (caller, ...args) => start(caller, table, args).catch((err: unknown) => {
      throw refusal(err);
    })));
    teardowns.push(host.exposeAware(unliveMethod(table.name), (caller, topic) => stop(caller, table, topic)));
  }
  const detached = host.detached$.subscribe((session) => {
    for (const [topic, running] of [...bySession.get(session) ?? []]) release(session, topic, running);
  });
  return {
    get size() { return size; },
    close: () => {
      detached.unsubscribe();
      for (const off of teardowns.splice(0)) off();
      hub.close(); // ends every query: each sink tells its client and releases its slot
      for (const [session, mine] of [...bySession]) for (const [topic, running] of [...mine]) release(session, topic, running);
    },
  };
}

async function readOrRefuse<T>(table: TableDef, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof LiveQueryEndedError || err instanceof QueryError) throw err;
    // DuckDB refused the condition at run time (e.g. comparing a TEXT column with a number).
    throw new QueryError(table.name, errorText(err), { cause: err });
  }
}
