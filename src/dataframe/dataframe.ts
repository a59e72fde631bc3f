/**
 * DataFrames on the wire (spec §7): a nodejs-polars DataFrame travels as CBOR tag 80 around
 * Arrow IPC *stream* bytes. Only top-level positions convert: each element of a publish/RPC
 * args array, the whole RPC result, or each element of an array result. A tag nested deeper
 * stays a cbor-x `Tag`, as in PY.
 */
import { Tag } from 'cbor-x';
import type { DataFrame } from 'nodejs-polars';
import { DecodeError, EncodeError } from '../errors.js';
import { DATAFRAME_TAG, isDataFrameTag } from './frames.js';
import { loadPolars, requirePolars } from './polars.js';

export { DATAFRAME_TAG, isDataFrameTag };

/**
 * Is `value` a nodejs-polars DataFrame? Duck-typed, so it never loads polars: polars frames
 * are plain objects tagged `[Symbol.toStringTag] === 'DataFrame'`.
 *
 * @example
 * ```ts
 * import { isDataFrame } from 'rembus/polars';
 * isDataFrame(pl.DataFrame({ a: [1] })); // true
 * ```
 * @param value Anything.
 * @returns True for a polars DataFrame.
 */
export function isDataFrame(value: unknown): value is DataFrame {
  return value !== null && typeof value === 'object'
    && (value as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === 'DataFrame'
    && typeof (value as { writeIPCStream?: unknown }).writeIPCStream === 'function';
}

/**
 * Wrap a DataFrame for the wire: tag 80 around its uncompressed Arrow IPC stream bytes.
 *
 * @example
 * ```ts
 * import { dataFrameToTag } from 'rembus/polars';
 * const tag = dataFrameToTag(pl.DataFrame({ a: [1, 2] })); // Tag { tag: 80, value: Uint8Array }
 * ```
 * @param df A polars DataFrame.
 * @returns A cbor-x `Tag` that cbor-x encodes as `d8 50 <bytes>`.
 * @throws EncodeError when polars cannot write the frame.
 * @see tagToDataFrame
 */
export function dataFrameToTag(df: DataFrame): Tag {
  let bytes: Uint8Array;
  try {
    bytes = df.writeIPCStream({ compression: 'uncompressed' });
  } catch (err) {
    throw new EncodeError(`cannot write DataFrame as Arrow IPC stream: ${(err as Error).message}`, { cause: err });
  }
  // A plain Uint8Array view: browser-side code never sees a Buffer (STYLE §2).
  return new Tag(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), DATAFRAME_TAG);
}

/**
 * Read a tag 80 back into a polars DataFrame.
 *
 * @example
 * ```ts
 * import { tagToDataFrame } from 'rembus/polars';
 * const df = tagToDataFrame(tag);
 * ```
 * @param tag A cbor-x `Tag` numbered 80 whose value is a byte string.
 * @returns The DataFrame.
 * @throws DecodeError when the tag is not 80, its value is not bytes, the bytes are not an
 * Arrow IPC stream, or nodejs-polars is not installed.
 * @see dataFrameToTag
 */
export function tagToDataFrame(tag: Tag): DataFrame {
  if (tag.tag !== DATAFRAME_TAG) throw new DecodeError(`expected CBOR tag 80, got tag ${tag.tag}`);
  const bytes: unknown = tag.value;
  if (!(bytes instanceof Uint8Array)) throw new DecodeError('tag 80 must wrap a byte string');
  const pl = requirePolars();
  try {
    return pl.readIPCStream(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (err) {
    throw new DecodeError(`tag 80 does not hold an Arrow IPC stream: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Tag every DataFrame among the top-level elements of an args array (one level only).
 *
 * @example
 * ```ts
 * import { encodeDataFrames } from 'rembus/polars';
 * node.publish('prices', ...encodeDataFrames([df, 'EUR']));
 * ```
 * @param args Publish or RPC arguments.
 * @returns `args` itself when it holds no DataFrame, else a copy with tags in their place.
 * @throws EncodeError when a frame cannot be written.
 * @see decodeDataFrames
 */
export function encodeDataFrames(args: unknown[]): unknown[] {
  return mapTopLevel(args, isDataFrame, dataFrameToTag);
}

/**
 * Turn every tag 80 among the top-level elements of an args array into a DataFrame (one
 * level only). Without nodejs-polars installed the tags stay tags.
 *
 * @param args Decoded publish or RPC arguments.
 * @returns `args` itself when nothing changed, else a copy.
 * @throws DecodeError when a tag 80 holds bytes that are not an Arrow IPC stream.
 * @see encodeDataFrames
 */
export function decodeDataFrames(args: unknown[]): unknown[] {
  if (!args.some(isDataFrameTag) || loadPolars() === undefined) return args;
  return mapTopLevel(args, isDataFrameTag, tagToDataFrame);
}

/**
 * Prepare an RPC result for the wire: a DataFrame result, or DataFrame elements of an array
 * result, become tag 80 (spec §2.7, §7).
 * @param value The handler's result.
 * @returns The value to encode (`value` itself when nothing changed).
 * @see decodeResult
 */
export function encodeResult(value: unknown): unknown {
  if (isDataFrame(value)) return dataFrameToTag(value);
  return Array.isArray(value) ? encodeDataFrames(value) : value;
}

/**
 * Read an RPC result: a tag 80 result, or tag 80 elements of an array result, become
 * DataFrames (unchanged without nodejs-polars).
 * @param value The decoded RESPONSE data.
 * @returns The value for the caller (`value` itself when nothing changed).
 * @see encodeResult
 */
export function decodeResult(value: unknown): unknown {
  if (isDataFrameTag(value)) return loadPolars() === undefined ? value : tagToDataFrame(value);
  return Array.isArray(value) ? decodeDataFrames(value) : value;
}

function mapTopLevel<T>(args: unknown[], test: (v: unknown) => v is T, convert: (v: T) => unknown): unknown[] {
  let out: unknown[] | undefined;
  for (let i = 0; i < args.length; i++) {
    const value = args[i];
    if (!test(value)) continue;
    out ??= args.slice();
    out[i] = convert(value);
  }
  return out ?? args;
}
