/**
 * A raw CBOR peer for the security tests: sends the frames an attacker (or an honest client)
 * would, one request at a time, and returns the broker's answers undecorated.
 */
import { expect } from 'vitest';
import { decodeCbor, encodeCbor } from '../../src/codec/index.js';
import { newMsgId } from '../../src/codec/msgid.js';
import type { Msg, MsgId, ResponseMsg } from '../../src/protocol/messages.js';
import { sharedSecretSignature } from '../../src/security/crypto.js';
import type { RawClient } from './helpers.js';

export interface RawPeer {
  readonly raw: RawClient;
  /** Send a request and return its RESPONSE (frames in between, e.g. deliveries, are skipped). */
  call(msg: Msg & { id: MsgId }): Promise<ResponseMsg>;
  /** IDENTITY as `name`; with `secret`, answer the challenge with the JL shared-secret digest. */
  login(name: string, secret?: string): Promise<ResponseMsg>;
  /** An admin command: [status, data]. */
  admin(topic: string, cmd: Record<string, unknown>): Promise<[number, unknown]>;
}

export function rawPeer(raw: RawClient): RawPeer {
  const call = async (msg: Msg & { id: MsgId }): Promise<ResponseMsg> => {
    raw.sendBinary(encodeCbor(msg));
    for (;;) {
      const got = decodeCbor(await raw.next() as Uint8Array);
      if (got.type === 'response' && got.id === msg.id) return got;
    }
  };
  return {
    raw,
    call,
    async login(name, secret) {
      const first = await call({ type: 'identity', id: newMsgId(), cid: name });
      if (secret === undefined || first.status !== 11) return first;
      const signature = sharedSecretSignature(first.data as Uint8Array, secret);
      return call({ type: 'attestation', id: newMsgId(), cid: name, signature });
    },
    async admin(topic, cmd) {
      const resp = await call({ type: 'admin', id: newMsgId(), topic, cmd });
      return [resp.status, resp.data];
    },
  };
}

/** Log `peer` in as `name` and expect status 0. */
export async function loggedIn(peer: RawPeer, name: string, secret?: string): Promise<RawPeer> {
  const resp = await peer.login(name, secret);
  expect([resp.status, resp.data]).toEqual([0, null]);
  return peer;
}
