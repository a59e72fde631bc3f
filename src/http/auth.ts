/**
 * HTTP authentication (RFC 7617 Basic), mapped to the identities of WebSocket logins, as
 * Rembus.jl's `authenticate` does: no header is an anonymous caller (refused when the broker
 * requires authentication); `name` alone is that name when it has no key on file; `name:secret`
 * needs a key on file, and the secret then logs in through the broker's own challenge (so a
 * wrong secret fails exactly as it would on a WebSocket).
 */
import { RembusError } from '../errors.js';

/** Who an HTTP request acts as: a name (with the secret to answer its challenge) or anonymous. */
export interface HttpIdentity {
  readonly name: string | undefined;
  readonly secret: string | undefined;
}

/** What the broker tells the HTTP room about its identities. */
export interface HttpAuthPolicy {
  /** True when anonymous callers and unauthenticated names are refused (`--auth required`). */
  requireAuth(): boolean;
  /** Does `cid` have a key (or shared secret) on file? */
  hasKey(cid: string): Promise<boolean>;
}

/** The request's credentials are missing, malformed or refused: answered 401. */
export class HttpAuthError extends RembusError {
  readonly code = 'HTTP_AUTH';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'HttpAuthError';
  }
}

/** Resolve an `Authorization` header to an identity. @throws HttpAuthError */
export type HttpAuthenticate = (authorization: string | undefined) => Promise<HttpIdentity>;

/** The Rembus.jl rules over a broker's policy (see the module comment). */
export function basicAuth(policy: HttpAuthPolicy): HttpAuthenticate {
  return async (authorization) => {
    if (authorization === undefined || authorization === '') {
      if (policy.requireAuth()) throw new HttpAuthError('anonymous: authentication required');
      return { name: undefined, secret: undefined };
    }
    const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(authorization);
    if (m === null) throw new HttpAuthError('only Basic authorization is supported');
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const name = colon < 0 ? decoded : decoded.slice(0, colon);
    const secret = colon < 0 ? undefined : decoded.slice(colon + 1);
    if (name === '') throw new HttpAuthError('empty user name');
    const keyed = await policy.hasKey(name).catch(() => false);
    if (secret === undefined || secret === '') {
      if (keyed || policy.requireAuth()) throw new HttpAuthError(`${name}: authentication failed`);
      return { name, secret: undefined };
    }
    if (!keyed) throw new HttpAuthError(`${name}: authentication failed`);
    return { name, secret };
  };
}
