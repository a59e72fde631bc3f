/**
 * Frame layout of the raw relay (relay-broker.ts, relay-client.ts): the first byte is an op, the
 * rest CBOR (cbor-x, plain maps). No topics, no ids, no acks beyond registration.
 *
 * - `SUB`     client → relay, `[0x01]`: deliver every PUB to me; relay answers `[OK]`.
 * - `PUB`     `[0x02] cbor([topic, payload])`: relayed unchanged to every subscriber but the sender.
 * - `EXPOSE`  client → relay, `[0x03]`: I am the RPC server; relay answers `[OK]`.
 * - `REQ`     `[0x04] u32 cbor([id, a, b])`: the caller leaves 4 zero bytes that the relay
 *             overwrites in place with the caller's connection id, then sends the frame to the server.
 * - `RES`     server → relay, `[0x05] u32 cbor([id, result])`: the relay sends the bytes after the
 *             connection id to that connection.
 * - `OK`      relay → client, `[0x06]`.
 */
export const OP = { SUB: 0x01, PUB: 0x02, EXPOSE: 0x03, REQ: 0x04, RES: 0x05, OK: 0x06 } as const;
