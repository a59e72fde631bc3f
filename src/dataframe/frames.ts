/**
 * DataFrames on the wire without any DataFrame library (spec §7): a tag 80 wraps the Arrow IPC
 * *stream* bytes of a table. Browser-safe. A `DataFrameCodec` says which in-memory
 * representation the application sees: the IPC bytes in an {@link ArrowIpc} wrapper (always
 * available), an apache-arrow `Table` ({@link arrowFrames}), or on Node a nodejs-polars
 * DataFrame (rembus/polars). Only top-level positions convert: each element of a publish/RPC
 * args array, the whole RPC result, or each element of an array result (as in PY).
 */
import { Tag } from 'cbor-x';

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

/** Is `value` a CBOR tag 80 (a DataFrame still in its wire form)? */
export function isDataFrameTag(value: unknown): value is Tag {
  return value instanceof Tag && value.tag === DATAFRAME_TAG;
}

/** The four top-level conversions over one codec. */
export interface FrameConversions {
  /** Tag every DataFrame among the top-level elements of an args array. */
  encodeArgs(args: unknown[]): unknown[];
  /** Turn every tag 80 among the top-level elements of an args array into a DataFrame. */
  decodeArgs(args: unknown[]): unknown[];
  /** An RPC result for the wire: a DataFrame, or DataFrame elements of an array, become tag 80. */
  encodeResult(value: unknown): unknown;
  /** An RPC result for the caller: the reverse. */
  decodeResult(value: unknown): unknown;
}

/** The conversions of `codec()` (read at each call, so the codec can be swapped). */
export function frameConversions(codec: () => DataFrameCodec): FrameConversions {
  const isFrame = (v: unknown): boolean => v !== null && typeof v === 'object' && !(v instanceof Uint8Array)
    && (v instanceof ArrowIpc || codec().isFrame(v));
  const toTag = (v: unknown): Tag => new Tag(v instanceof ArrowIpc ? v.bytes : codec().toIpc(v), DATAFRAME_TAG);
  const fromTag = (t: Tag): unknown => t.value instanceof Uint8Array ? codec().fromIpc(t.value) : t;
  const encodeArgs = (args: unknown[]): unknown[] => mapTopLevel(args, isFrame, toTag);
  const decodeArgs = (args: unknown[]): unknown[] => mapTopLevel(args, isDataFrameTag, fromTag);
  return {
    encodeArgs,
    decodeArgs,
    encodeResult: (value) => isFrame(value) ? toTag(value) : Array.isArray(value) ? encodeArgs(value) : value,
    decodeResult: (value) => isDataFrameTag(value) ? fromTag(value) : Array.isArray(value) ? decodeArgs(value) : value,
  };
}

function mapTopLevel<T>(args: unknown[], test: (v: unknown) => boolean, convert: (v: T) => unknown): unknown[] {
  let out: unknown[] | undefined;
  for (let i = 0; i < args.length; i++) {
    const value = args[i];
    if (!test(value)) continue;
    out ??= args.slice();
    out[i] = convert(value as T);
  }
  return out ?? args;
}
