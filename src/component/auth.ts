/**
 * The component side of authentication and provisioning (spec §3.1, §3.3, §3.5): IDENTITY,
 * then ATTESTATION when the broker challenges; REGISTER and UNREGISTER. The signing code
 * (node:crypto on Node, WebCrypto elsewhere) is loaded only when a challenge or a registration needs it.
 */
import { defer, from, ignoreElements, map, Observable, switchMap } from 'rxjs';
import { newMsgId } from '../codec/msgid.js';
import { AuthError, NameTakenError, RembusError, TwinLimitError } from '../errors.js';
import { errorText } from '../internal/logger.js';
import { STATUS, type Msg, type MsgId, type ResponseMsg } from '../protocol/messages.js';
import { platform } from '#platform';
import type { ComponentKey } from './types.js';

/** Sends one request and emits its RESPONSE (the component's request mux). */
export type Request$ = (msg: Msg & { id: MsgId }, what: string) => Observable<ResponseMsg>;

const signer$ = defer(() => from(platform.signer()));

/**
 * Log in as `name`: IDENTITY, and when the broker answers 11 with a challenge, ATTESTATION
 * signed with `key`. Completes when bound; errors with AuthError (fatal: not retried) when
 * refused, challenged without a key, or the key cannot sign.
 */
export function identify$(request$: Request$, name: string, key: ComponentKey | undefined): Observable<never> {
  return request$({ type: 'identity', id: newMsgId(), cid: name }, 'identity').pipe(
    switchMap((resp) => {
      if (resp.status === STATUS.OK) return [];
      if (resp.status === STATUS.NAME_ALREADY_TAKEN) throw new NameTakenError(name);
      if (resp.status !== STATUS.CHALLENGE) throw refused(`login of '${name}'`, resp);
      if (key === undefined) {
        throw new AuthError(`login of '${name}' refused: the broker wants a key (challenge) and none was given`, resp.status);
      }
      return signer$.pipe(
        switchMap((signer) => withKey(() => signer.attestationFor(challengeOf(resp.data), name, key))),
        switchMap((sig) => request$({ type: 'attestation', id: newMsgId(), cid: name, signature: sig }, 'attestation')),
        map((answer) => {
          // A live connection holds the name and answered the broker's probe (a takeover refused).
          if (answer.status === STATUS.NAME_ALREADY_TAKEN) throw new NameTakenError(name);
          if (answer.status !== STATUS.OK) throw refused(`authentication of '${name}'`, answer);
        }),
      );
    }),
    ignoreElements(),
  );
}

/** REGISTER the public half of `key` for `cid` with the tenant's `pin`; completes on status 0. */
export function register$(request$: Request$, cid: string, pin: string, key: ComponentKey): Observable<void> {
  return signer$.pipe(
    switchMap((signer) => withKey(() => signer.registrationKey(key))),
    switchMap(({ pubkey, keyType }) =>
      request$({ type: 'register', id: newMsgId(), cid, pin, pubkey, keyType }, 'register')),
    map((resp) => {
      if (resp.status !== STATUS.OK) throw refused(`registration of '${cid}'`, resp);
    }),
  );
}

/** UNREGISTER the connection's own name; completes on status 0. */
export function unregister$(request$: Request$, name: string): Observable<void> {
  return request$({ type: 'unregister', id: newMsgId() }, 'unregister').pipe(map((resp) => {
    if (resp.status !== STATUS.OK) throw refused(`unregistration of '${name}'`, resp);
  }));
}

function refused(what: string, resp: ResponseMsg): AuthError | TwinLimitError {
  if (typeof resp.data === 'string' && resp.data.startsWith(TwinLimitError.REASON)) return new TwinLimitError(`${what} refused: ${resp.data}`);
  return new AuthError(`${what} refused: ${errorText(resp.data ?? 'status ' + String(resp.status))}`, resp.status);
}

/** Run key code; an unusable key is an AuthError (fatal), keeping InvalidKeyError as its cause. */
async function withKey<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof RembusError && !(err instanceof AuthError)) throw new AuthError(err.message, undefined, { cause: err });
    throw err;
  }
}

/** The challenge bytes: a CBOR byte string, or base64 text from a JSON peer (spec §2.8). */
function challengeOf(data: unknown): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (typeof data === 'string') return Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  throw new AuthError('the broker sent a challenge that is not bytes', STATUS.CHALLENGE);
}
