/**
 * How a store keeps retained values (TS `retain`): the latest row committed with `retain` per
 * topic; a row with empty args clears its topic. Pure.
 */
import type { StoredMessage } from './types.js';

/** CBOR of an empty array: the args of a publish that clears a retained value. */
const EMPTY_ARGS = 0x80;

/** Does this retained row clear its topic's value (empty args)? */
export function clearsRetained(row: StoredMessage): boolean {
  return row.data.byteLength === 1 && row.data[0] === EMPTY_ARGS;
}

/** Apply the retained rows of a batch to `values` (topic → row), in order. */
export function applyRetained(values: Map<string, StoredMessage>, rows: readonly StoredMessage[]): void {
  for (const row of rows) {
    if (row.retain !== true) continue;
    if (clearsRetained(row)) values.delete(row.topic);
    else values.set(row.topic, row);
  }
}
