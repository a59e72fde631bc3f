/**
 * CBOR framing of Rembus messages (spec §2): one definite-length array per binary frame.
 * Pure: no I/O. Values are encoded by cbor-x with `useRecords: false`; unknown tags (tag 80
 * DataFrames among them) decode to cbor-x `Tag` objects and re-encode byte for byte.
 * Encoding is in cbor-encode.ts, decoding in cbor-decode.ts and the shape checks of a decoded
 * frame in frame-shape.ts; this module is the one their users import.
 */
export { encodeCbor, encodeValue } from './cbor-encode.js';
export { decodeCbor, decodeValue, normalizeInts } from './cbor-decode.js';
export { argsOf } from './frame-shape.js';
