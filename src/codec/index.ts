export { decodeCbor, encodeCbor, encodeValue, decodeValue, argsOf } from './cbor.js';
export { decodeJson, encodeJson } from './json.js';
export type { JsonStyle, JsonDecoded } from './json.js';
export { WireCodec } from './wire.js';
export type { Frame } from './wire.js';
export { newMsgId, newSlottedMsgId, msgIdFromBytes, msgIdToBytes } from './msgid.js';
