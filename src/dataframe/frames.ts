/**
 * DataFrames on the wire without any DataFrame library (spec §7): a tag 80 wraps the Arrow IPC
 * *stream* bytes of a table. Browser-safe. A `DataFrameCodec` says which in-memory
 * representation the application sees: the IPC bytes in an {@link ArrowIpc} wrapper (always
 * available), an apache-arrow `Table` ({@link arrowFrames}), or on Node a nodejs-polars
 * DataFrame (rembus/polars). Only top-level positions convert: each element of a publish/RPC
 * args array, the whole RPC result, or each element of an array result (as in PY).
 */
/** The CBOR tag of an Arrow IPC stream DataFrame (spec §7). */
export const DATAFRAME_TAG = 80;

/**
 * A DataFrame as its Arrow IPC stream bytes: what a tag 80 becomes when no DataFrame library is
 * in use. Publishing one sends the bytes as tag 80 again, unchanged.
 *
 * @example
 * ```ts
 * import { ArrowIpc } from 'rembus';
 * node.subscribe$('prices').subscribe(({ args: [frame] }) => {
 *   if (frame instanceof ArrowIpc) console.log(frame.bytes.byteLength, 'bytes of Arrow IPC');
 * });
 * ```
 */
export class ArrowIpc {
  /** @param bytes the Arrow IPC stream */
  constructor(readonly bytes: Uint8Array) {}
}

/** Converts between an in-memory DataFrame and Arrow IPC stream bytes. */
export interface DataFrameCodec {
  /** Is `value` a DataFrame of this representation (sent as tag 80)? */
  isFrame(value: unknown): boolean;
  /** Its Arrow IPC stream bytes. */
  toIpc(value: unknown): Uint8Array;
  /** The DataFrame for received IPC stream bytes. */
  fromIpc(bytes: Uint8Array): unknown;
}

/** The codec without a DataFrame library: {@link ArrowIpc} both ways. */
export const ipcFrames: DataFrameCodec = {
  isFrame: (value) => value instanceof ArrowIpc,
  toIpc: (value) => (value as ArrowIpc).bytes,
  fromIpc: (bytes) => new ArrowIpc(bytes),
};

/** The part of the apache-arrow module {@link arrowFrames} uses. */
export interface ArrowModule {
  Table: abstract new (...args: never[]) => object;
  tableFromIPC(bytes: Uint8Array): unknown;
  tableToIPC(table: never, type: 'stream'): Uint8Array;
}

/**
 * A codec that hands tag 80 values over as apache-arrow `Table`s and sends `Table`s as tag 80.
 *
 * @example
 * ```ts
 * import * as arrow from 'apache-arrow';
 * import { arrowFrames, useDataFrames } from 'rembus';
 * useDataFrames(arrowFrames(arrow));
 * ```
 * @param arrow the apache-arrow module (injected: a bundler then includes it only when you do)
 */
export function arrowFrames(arrow: ArrowModule): DataFrameCodec {
  return {
    isFrame: (value) => value instanceof arrow.Table,
    toIpc: (value) => arrow.tableToIPC(value as never, 'stream'),
    fromIpc: (bytes) => arrow.tableFromIPC(bytes),
  };
}
