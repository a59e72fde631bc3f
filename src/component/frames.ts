/**
 * The DataFrame representation components use (spec §7): the platform's default (Node:
 * nodejs-polars when installed; elsewhere an apache-arrow `Table` when it can be loaded), else
 * {@link ArrowIpc} bytes; `useDataFrames()` replaces it for the process.
 */
import { platform } from '#platform';
import { frameConversions, type DataFrameCodec } from '../dataframe/frames.js';

let chosen: DataFrameCodec | undefined;

/**
 * Choose how every component of this process represents DataFrames (tag 80).
 * @example
 * ```ts
 * import * as arrow from 'apache-arrow';
 * import { arrowFrames, useDataFrames } from 'rembus';
 * useDataFrames(arrowFrames(arrow)); // tag 80 values arrive as arrow Tables
 * ```
 * @param codec e.g. `arrowFrames(arrow)`, `ipcFrames`, or `polarsFrames` from rembus/polars
 */
export function useDataFrames(codec: DataFrameCodec): void {
  chosen = codec;
}

export const frames = frameConversions(() => chosen ?? platform.frames());
