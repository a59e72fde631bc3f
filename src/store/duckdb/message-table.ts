/**
 * The message log's table of the DuckDB store (spec §4.7/§8.1: `message(name, recv, slot, qos,
 * uid, topic, data)`, plus TS's `origin` and `own` after PY's columns): its DDL, and a row's
 * mapping to and from a {@link StoredMessage}. Pure: no I/O.
 */
import { DuckDBBlobValue } from '@duckdb/node-api';
import type { DuckDBValue, DuckDBVector } from '@duckdb/node-api';
import type { StoredMessage } from '../types.js';
import type { ColumnSource, RawVector } from './append-columns.js';

/** Creates the table, and adds TS's columns to the table of an older file. */
export const MESSAGE_TABLE = [
  'CREATE TABLE IF NOT EXISTS message(name TEXT, recv UBIGINT, slot UINTEGER, qos UTINYINT, uid UBIGINT, topic TEXT, data BLOB)',
  // TS, after PY's columns (a file of an older broker gets them, its rows NULL: no publisher kept):
  // the publisher while tenants are isolated ('' anonymous), and `own` for the broker's own
  // publishes (StoredMessage.origin null). Replay keeps tenants apart with them (guard.ts).
  'ALTER TABLE message ADD COLUMN IF NOT EXISTS origin TEXT',
  'ALTER TABLE message ADD COLUMN IF NOT EXISTS own BOOLEAN',
];

/** The columns {@link toMessage} reads. */
export const MESSAGE_FIELDS = 'recv, slot, qos, uid, topic, data, origin, own';

/** A `message` row read with {@link MESSAGE_FIELDS} as a StoredMessage. */
export function toMessage(row: Record<string, DuckDBValue>): StoredMessage {
  const data = row['data'];
  const bytes = data instanceof DuckDBBlobValue ? data.bytes : new Uint8Array(0);
  const origin = row['own'] === true ? null : row['origin'] as string | null;
  const message: StoredMessage = {
    recv: row['recv'] as bigint,
    slot: row['slot'] as number | null,
    qos: row['qos'] as number,
    uid: row['uid'] as bigint | null,
    topic: row['topic'] as string,
    // The binding hands out Buffers; the Store speaks plain Uint8Array.
    data: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
  };
  return origin === null && row['own'] !== true ? message : { ...message, origin };
}

/**
 * The `message` table's columns (name, recv, slot, qos, uid, topic, data, origin, own) of a log
 * batch. Numbers fill typed vectors; text and blobs still cost a native call per cell, but for
 * `origin`, whose cells (NULL unless tenants are isolated, names mostly short) go through
 * {@link RawVector.strings}.
 */
export function messageColumns(name: string, batch: readonly StoredMessage[]): ColumnSource {
  const fill = (column: number, v: DuckDBVector, from: number, count: number, raw: RawVector): boolean | void => {
    switch (column) {
      case 0: for (let i = 0; i < count; i++) v.setItem(i, name); return;
      case 1: for (let i = 0; i < count; i++) v.setItem(i, batch[from + i]!.recv); return;
      case 2: for (let i = 0; i < count; i++) v.setItem(i, batch[from + i]!.slot); return;
      case 3: for (let i = 0; i < count; i++) v.setItem(i, batch[from + i]!.qos); return;
      case 4: for (let i = 0; i < count; i++) v.setItem(i, batch[from + i]!.uid); return;
      case 5: for (let i = 0; i < count; i++) v.setItem(i, batch[from + i]!.topic); return;
      case 6: for (let i = 0; i < count; i++) v.setItem(i, new DuckDBBlobValue(batch[from + i]!.data)); return;
      case 7: raw.strings(count, (i) => batch[from + i]!.origin ?? null); return true;
      default: for (let i = 0; i < count; i++) v.setItem(i, batch[from + i]!.origin === null ? true : null);
    }
  };
  return { length: batch.length, fill };
}
