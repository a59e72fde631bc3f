/**
 * Polars adapter (spec §7): DataFrames as CBOR tag 80 around Arrow IPC stream bytes, and exact
 * column conversions. nodejs-polars is an optional peer, loaded on first use.
 */
export {
  DATAFRAME_TAG, isDataFrame, isDataFrameTag, dataFrameToTag, tagToDataFrame,
  encodeDataFrames, decodeDataFrames, encodeResult, decodeResult,
} from './dataframe.js';
export { EpochNs, columnValues, dataFrameColumns, seriesValues, int64Series, datetimeSeries, dateSeries } from './columns.js';
export type { TimeUnit } from './columns.js';
export { loadPolars, requirePolars } from './polars.js';
export type { PolarsModule } from './polars.js';
export { polarsFrames } from './polars-frames.js';
