/**
 * The top-level tag 80 conversions over a {@link DataFrameCodec} (spec §7): each element of a
 * publish/RPC args array, the whole RPC result, or each element of an array result. Kept apart
 * from frames.ts so the public type declarations never reach cbor-x's (which need @types/node).
 */
import { Tag } from 'cbor-x';
import { ArrowIpc, DATAFRAME_TAG, type DataFrameCodec } from './frames.js';

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
