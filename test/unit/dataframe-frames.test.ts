/**
 * DataFrames without polars (issue 15): tag 80 arrives as ArrowIpc bytes, or as an apache-arrow
 * Table with arrowFrames; both go back on the wire as the same tag 80; only top-level positions
 * convert (spec §7).
 */
import * as arrow from 'apache-arrow';
import { Tag } from 'cbor-x';
import { describe, expect, it } from 'vitest';
import { decodeValue, encodeValue } from '../../src/codec/cbor.js';
import { frameConversions, isDataFrameTag } from '../../src/dataframe/frame-tags.js';
import { ArrowIpc, arrowFrames, ipcFrames } from '../../src/dataframe/frames.js';

const table = arrow.tableFromArrays({ id: Int32Array.from([1, 2, 3]), name: ['x', 'y', 'z'] });
const ipc = arrow.tableToIPC(table, 'stream');

describe('ipcFrames', () => {
  const c = frameConversions(() => ipcFrames);
  it('hands a tag 80 over as ArrowIpc and sends it back byte for byte', () => {
    const [frame, other] = c.decodeArgs([new Tag(ipc, 80), 'EUR']);
    expect(frame).toBeInstanceOf(ArrowIpc);
    expect((frame as ArrowIpc).bytes).toEqual(ipc);
    expect(other).toBe('EUR');
    const [tag] = c.encodeArgs([frame]);
    expect(isDataFrameTag(tag)).toBe(true);
    expect(encodeValue(tag)).toEqual(encodeValue(new Tag(ipc, 80)));
  });

  it('converts top-level positions only, and leaves args without frames untouched', () => {
    const nested = [[new Tag(ipc, 80)]];
    expect(c.decodeArgs(nested)).toBe(nested);
    const plain = [1, 'a', new Uint8Array([1])];
    expect(c.encodeArgs(plain)).toBe(plain);
    expect(c.decodeResult(new Tag(ipc, 80))).toBeInstanceOf(ArrowIpc);
    expect(c.encodeResult([new ArrowIpc(ipc), 2])).toEqual([new Tag(ipc, 80), 2]);
  });

  it('keeps a tag 80 whose value is not bytes as the tag', () => {
    const odd = new Tag('not bytes', 80);
    expect(c.decodeArgs([odd])[0]).toBe(odd);
  });
});

describe('arrowFrames', () => {
  const c = frameConversions(() => arrowFrames(arrow));
  it('hands a tag 80 over as an arrow Table and sends a Table as tag 80', () => {
    const wire = decodeValue(encodeValue([new Tag(ipc, 80)])) as unknown[];
    const [decoded] = c.decodeArgs(wire);
    expect(decoded).toBeInstanceOf(arrow.Table);
    expect((decoded as arrow.Table).getChild('name')!.toArray()).toEqual(['x', 'y', 'z']);
    const [tag] = c.encodeArgs([table]);
    expect(isDataFrameTag(tag)).toBe(true);
    const back = arrow.tableFromIPC((tag as Tag).value as Uint8Array);
    expect(back.getChild('id')!.toArray()).toEqual(Int32Array.from([1, 2, 3]));
  });
});
