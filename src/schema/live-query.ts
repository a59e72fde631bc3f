/**
 * Live queries over schema tables: the rows matching a `where` now, then every matching row
 * as it is committed, with no gap and no duplicate between the two.
 *
 * How the two parts join: in one synchronous step the query reads `CommitFeed.queued` (the
 * number of the last write queued), starts listening to the table's commits, and queues its
 * snapshot read on the database handle. The read sees exactly the writes numbered up to that
 * number (commit-feed.ts); the listener keeps only commits numbered after it. Rows committed
 * while the snapshot is on its way are held (bounded by `maxPending`) until the caller has sent
 * the snapshot and calls `go()`.
 */
import type { DuckDbHandle } from '../store/duckdb/database.js';
import { LiveQueryEndedError, LiveQueryUnsupportedError, QueryError } from '../protocol/live-query.js';
import { ident } from './column-types.js';
import type { CommitFeed } from './commit-feed.js';
import { WhereClauseError } from './errors.js';
import { canonicalRows } from './live-rows.js';
import type { Row, TableDef } from './types.js';
import { whereToSql, type WhereNode } from './where-ast.js';
import { compileLivePredicate, UnsupportedConstruct } from './where-eval.js';
import { parseWhere } from './where.js';

/** Default bound of rows held for one live query between its snapshot and `go()`. */
export const DEFAULT_LIVE_MAX_PENDING = 100_000;

/** What the hub needs from the schema stage. */
export interface LiveQueryContext {
  readonly db: DuckDbHandle;
  readonly commits: CommitFeed;
  /** Resolves once the tables exist. */
  readonly ready: Promise<void>;
  /** Write every row received so far (a query sees what was published before it). */
  flush(): Promise<void>;
}

/** Where a live query's new rows go. Both are called synchronously from a commit. */
export interface LiveSink {
  rows(rows: Row[]): void;
  /** The hub ended the query (closing, overflow); not called after `close()`. */
  end(error: LiveQueryEndedError): void;
}

/** A query checked against its table: what `snapshot`/`open` run. */
export interface PreparedQuery {
  readonly table: TableDef;
  readonly sql: string;
  readonly matches: (row: readonly unknown[]) => boolean;
}

/** A running live query, its snapshot taken. */
export interface LiveQuery {
  /** The rows matching at start, canonical, in layout order. */
  readonly rows: Row[];
  /** The snapshot has been sent: deliver what was held, then each commit as it comes. */
  go(): void;
  /** Stop listening and drop what is held. Idempotent. */
  close(): void;
}

export class LiveQueryHub {
  private readonly open$ = new Set<() => void>();
  private closed = false;

  constructor(private readonly ctx: LiveQueryContext, private readonly maxPending = DEFAULT_LIVE_MAX_PENDING) {}

  /** Live queries running now (started and not closed). */
  get size(): number {
    return this.open$.size;
  }

  /**
   * Check `where` against `table`.
   * @param live Also compile the JS predicate (refusing what it cannot evaluate).
   * @throws QueryError for a `where` outside the grammar; LiveQueryUnsupportedError (live only).
   */
  prepare(table: TableDef, where: string | undefined, live: boolean): PreparedQuery {
    const layout = table.layout.map((c) => c.name);
    let ast: WhereNode | undefined;
    try {
      ast = where === undefined || where.trim() === '' ? undefined : parseWhere(where, layout);
    } catch (err) {
      if (err instanceof WhereClauseError) throw new QueryError(table.name, err.message, { cause: err });
      throw err;
    }
    let matches: PreparedQuery['matches'] = () => true;
    if (live) {
      try {
        matches = compileLivePredicate(ast, layout);
      } catch (err) {
        if (err instanceof UnsupportedConstruct) throw new LiveQueryUnsupportedError(table.name, err.construct, { cause: err });
        throw err;
      }
    }
    const sql = `SELECT ${layout.map(ident).join(', ')} FROM ${ident(table.name)}${ast === undefined ? '' : ` WHERE ${whereToSql(ast)}`}`;
    return { table, sql, matches };
  }

  /** The rows matching now (a one-shot query). */
  async snapshot(query: PreparedQuery): Promise<Row[]> {
    await this.ctx.ready;
    await this.ctx.flush();
    return canonicalRows(query.table.layout, await this.read(query));
  }

  /**
   * Take the snapshot and start listening, joined with no gap and no duplicate.
   * @throws LiveQueryEndedError when the hub is closed.
   */
  async open(query: PreparedQuery, sink: LiveSink): Promise<LiveQuery> {
    await this.ctx.ready;
    // Freshness only: rows still being collected would come through the live part anyway.
    await this.ctx.flush();
    if (this.closed) throw new LiveQueryEndedError(query.table.name, 'broker closing');
    const { commits } = this.ctx;
    let held: Row[] | null = [];
    let done = false;
    // These three statements are the join point: no await between them (see the file's doc).
    const after = commits.queued;
    const off = commits.listen(query.table, (commit) => {
      if (done || commit.seq <= after) return;
      const rows = commit.rows.filter(query.matches);
      if (rows.length === 0) return;
      if (held === null) return sink.rows(rows);
      if (held.length + rows.length > this.maxPending) {
        close();
        sink.end(new LiveQueryEndedError(query.table.name, `more than ${this.maxPending} rows waited for the snapshot to be sent`));
        return;
      }
      for (const row of rows) held.push(row);
    });
    const read = this.read(query);
    const close = (): void => {
      if (done) return;
      done = true;
      held = null;
      off();
      this.open$.delete(end);
    };
    const end = (): void => {
      if (done) return;
      close();
      sink.end(new LiveQueryEndedError(query.table.name, 'broker closing'));
    };
    this.open$.add(end);
    let rows: Row[];
    try {
      rows = canonicalRows(query.table.layout, await read);
    } catch (err) {
      close();
      throw err;
    }
    return {
      rows,
      go: () => {
        if (done || held === null) return;
        const pending = held;
        held = null;
        if (pending.length > 0) sink.rows(pending);
      },
      close,
    };
  }

  /** End every live query (their sinks are told). Idempotent. */
  close(): void {
    this.closed = true;
    for (const end of [...this.open$]) end();
  }

  private read(query: PreparedQuery): ReturnType<DuckDbHandle['read']> {
    return this.ctx.db.read(query.sql);
  }
}
