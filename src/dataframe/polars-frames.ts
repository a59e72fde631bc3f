/**
 * The nodejs-polars DataFrame codec (Node): what Node components use by default. polars is
 * loaded on the first tag 80 received; without it installed, frames arrive as `ArrowIpc`.
 */
import type { DataFrame } from 'nodejs-polars';
import { dataFrameToTag, isDataFrame, tagToDataFrame } from './dataframe.js';
import { ArrowIpc, DATAFRAME_TAG, type DataFrameCodec } from './frames.js';
import { loadPolars } from './polars.js';
import { Tag } from 'cbor-x';

/**
 * nodejs-polars DataFrames both ways.
 * @example
 * ```ts
 * import { useDataFrames } from 'rembus';
 * import { polarsFrames } from 'rembus/polars';
 * useDataFrames(polarsFrames); // the Node default already
 * ```
 */
export const polarsFrames: DataFrameCodec = {
  isFrame: isDataFrame,
  toIpc: (df) => dataFrameToTag(df as DataFrame).value as Uint8Array,
  fromIpc: (bytes) => loadPolars() === undefined ? new ArrowIpc(bytes) : tagToDataFrame(new Tag(bytes, DATAFRAME_TAG)),
};
