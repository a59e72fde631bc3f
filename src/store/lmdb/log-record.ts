/**
 * One record of the packed log: the messages of one commit, CBOR-encoded as
 * `[last, [[recv, slot, qos, uid, topic, data], …]]`, keyed by the first recv (8 bytes,
 * big-endian, so keys sort by time).
 */
import { Decoder, Encoder } from 'cbor-x';
import type { StoredMessage } from '../types.js';

const encoder = new Encoder({ useRecords: false, tagUint8Array: false });
const decoder = new Decoder({ useRecords: false });

export interface LogRecord {
  readonly first: bigint;
  readonly last: bigint;
  readonly rows: StoredMessage[];
}

export function recvKey(recv: bigint): Buffer {
  const key = Buffer.allocUnsafe(8);
  key.writeBigUInt64BE(recv < 0n ? 0n : recv > 0xffff_ffff_ffff_ffffn ? 0xffff_ffff_ffff_ffffn : recv);
  return key;
}

export function encodeRecord(rows: readonly StoredMessage[]): Uint8Array {
  const packed = new Array<unknown>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const m = rows[i]!;
    packed[i] = [m.recv, m.slot, m.qos, m.uid, m.topic, m.data];
  }
  return encoder.encode([rows[rows.length - 1]!.recv, packed]);
}

type Packed = [bigint | number, number | null, number, bigint | number | null, string, Uint8Array];

export function decodeRecord(bytes: Uint8Array): LogRecord {
  const [last, packed] = decoder.decode(bytes) as [bigint | number, Packed[]];
  const rows = packed.map(([recv, slot, qos, uid, topic, data]): StoredMessage => ({
    recv: BigInt(recv), slot, qos, uid: uid === null ? null : BigInt(uid), topic,
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  }));
  return { first: rows[0]?.recv ?? 0n, last: BigInt(last), rows };
}
