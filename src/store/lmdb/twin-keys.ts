/**
 * Keys of the twins database: `<kind>\0<twin>\0<rest>` as UTF-8 bytes, so one twin's keys of
 * one kind are a contiguous range. Kinds: `m` mark, `s` subscription, `e` exposed method,
 * `q` QoS2 id awaiting ACK2.
 */
export type TwinKeyKind = 'm' | 's' | 'e' | 'q';

export function twinKey(kind: TwinKeyKind, twin: string, rest = ''): Buffer {
  return Buffer.from(`${kind}\0${twin}\0${rest}`, 'utf8');
}

/** The key range [start, end) of one twin's keys of one kind. */
export function twinPrefix(kind: TwinKeyKind, twin: string): { start: Buffer; end: Buffer } {
  return { start: Buffer.from(`${kind}\0${twin}\0`, 'utf8'), end: Buffer.from(`${kind}\0${twin}\x01`, 'utf8') };
}

export function parseTwinKey(key: Uint8Array): { kind: TwinKeyKind; twin: string; rest: string } {
  const text = Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('utf8');
  const a = text.indexOf('\0', 2);
  return { kind: text[0] as TwinKeyKind, twin: text.slice(2, a), rest: text.slice(a + 1) };
}
