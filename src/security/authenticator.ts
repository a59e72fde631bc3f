/**
 * The broker's security decisions as functions (spec §3.1, §3.3, §3.5, §6.2): what to answer to
 * IDENTITY, ATTESTATION, REGISTER and UNREGISTER, and whether a name may use a topic. No sockets:
 * the broker sends the returned `{ status, data }` as the RESPONSE and binds the name itself.
 *
 * The model (README "Security"): rights rest on proven identities. A connection *proves* a name
 * by signing the broker's challenge with the key on file (or the JL shared secret). Admin rights
 * and private-topic authorizations count only for a proven name; an unproven name has the rights
 * of anyone. Which connections may act without proof at all is the {@link AuthMode} and the
 * tenants' openness ({@link Authenticator.admitsUnproven}).
 */
import { STATUS } from '../protocol/messages.js';
import { challengeBytes, equalSecrets, parseKeyMaterial, verifyAttestation } from './crypto.js';
import { InvalidNameError, KeyExistsError } from './errors.js';
import { DEFAULT_TENANT, validateKeyName } from './names.js';
import type { SecurityStore } from './types.js';

/** A RESPONSE to send: status (spec §2.5) and data. */
export interface AuthReply { status: number; data: unknown }

/** Login state of one connection; the broker keeps one per session ({@link newLoginState}). */
export interface LoginState {
  /** The challenge sent in answer to IDENTITY, until an ATTESTATION consumes it. */
  pending: { cid: string; challenge: Uint8Array } | undefined;
  /** True once the connection proved it holds the key of its name. */
  authenticated: boolean;
  /**
   * A link the broker opened to itself (a federation bridge's in-process component): any name
   * without a key on file that it identifies as counts as proven.
   */
  trusted: boolean;
  /**
   * The peer asked to learn at once that a QoS1/2 publish was refused (TS extension, README
   * "Security"); reference peers never ask and keep the spec's silent drop (§4.2).
   */
  refusals: boolean;
}

/**
 * `'optional'` (default): components that prove no name (anonymous ones, names without a key on
 * file) are served, with the rights of anyone. `'required'`: only components that proved their
 * name are served; the others may only REGISTER (spec §3.5) and log in.
 */
export type AuthMode = 'optional' | 'required';

/** What a name wants to do with a topic; each is refused on a private topic it is not authorized for. */
export type SecurityAction = 'publish' | 'subscribe' | 'deliver' | 'rpc' | 'expose';

/** The broker's security decisions over a {@link SecurityStore}. */
export interface Authenticator {
  readonly store: SecurityStore;
  readonly mode: AuthMode;
  /** IDENTITY: 0 (bind, unauthenticated), 11 + challenge (a key is on file), or 10 (e.g. proof required). */
  onIdentity(login: LoginState, cid: string): Promise<AuthReply>;
  /** ATTESTATION: 0 (bind, authenticated) or 10. Consumes the pending challenge either way. */
  onAttestation(login: LoginState, cid: string, signature: Uint8Array): Promise<AuthReply>;
  /**
   * REGISTER: 0, 10 `"tenant [t] not enabled"`, 10 `"wrong tenant/pin"`, 60 name taken, or 10.
   * A name that already holds rights (an admin, or named in a private topic's authorizations)
   * is registered only over a connection of a proven admin (`by`): the PIN alone would let
   * anyone who knows it claim that name's rights first and lock its owner out.
   */
  onRegister(cid: string, pin: string, pubkey: Uint8Array, keyType: number, by?: Identity): Promise<AuthReply>;
  /** UNREGISTER of the connection's own name: 0, or 10 `"invalid operation"` when not authenticated. */
  onUnregister(cid: string, authenticated: boolean): Promise<AuthReply>;
  /**
   * May `name` do `action` on `topic`? Public topics: anyone; private: proven admins and proven
   * authorized names. An authorization of a name that did not prove itself grants nothing.
   */
  authorize(name: string, action: SecurityAction, topic: string, proven: boolean): boolean;
  /** An admin is a name in the admin list that proved itself (spec §6.1). */
  isAdmin(name: string, proven: boolean): boolean;
  /**
   * May a connection that proved no name act as `name` (undefined: an anonymous connection)?
   * `'required'` mode: never. With isolated tenants: only in a tenant configured open (an
   * anonymous connection counts as tenant `'.'`). Otherwise: yes.
   */
  admitsUnproven(name: string | undefined): boolean;
  /**
   * Is `secret` the shared secret on file for `cid` (a bare `keys/<cid>`, spec §3.3)? For
   * transports that carry a password instead of signing a challenge (HTTP Basic auth): a true
   * answer proves the name as an attestation does. Public keys cannot be checked this way: false.
   */
  verifySecret(cid: string, secret: string): Promise<boolean>;
  /** Tenant isolation: true when tenants are not configured, else when both names share a tenant. */
  sameTenant(a: string, b: string): boolean;
}

/** Options of {@link createAuthenticator}. */
export interface AuthenticatorOptions {
  /** Challenge generator. Default 4 random bytes ({@link challengeBytes}). */
  challenge?: () => Uint8Array;
  /** Who may act without proving a name. Default `'optional'`. */
  mode?: AuthMode;
  /** Tenants whose names may act unproven when tenants are isolated (`'.'` for names without a dot). Default none. */
  openTenants?: Iterable<string>;
}

/** A name and whether its connection proved it. */
export interface Identity { readonly name: string; readonly proven: boolean }

/** A fresh, unauthenticated login state. */
export function newLoginState(): LoginState {
  return { pending: undefined, authenticated: false, trusted: false, refusals: false };
}

const ok = (): AuthReply => ({ status: STATUS.OK, data: null });
const refuse = (reason: string): AuthReply => ({ status: STATUS.ERROR, data: reason });

/**
 * Build the broker's authenticator.
 * @example
 * ```ts
 * import { createAuthenticator, newLoginState, openSecurityStore } from 'rembus/broker';
 * const auth = createAuthenticator(await openSecurityStore(dir));
 * const login = newLoginState();                       // one per connection
 * const { status, data } = await auth.onIdentity(login, 'mycomponent');
 * ```
 * @see openSecurityStore
 */
export function createAuthenticator(store: SecurityStore, options: AuthenticatorOptions = {}): Authenticator {
  const makeChallenge = options.challenge ?? challengeBytes;
  const mode: AuthMode = options.mode ?? 'optional';
  const openTenants = new Set(options.openTenants ?? []);
  const isAdmin = (name: string, proven: boolean): boolean => proven && store.isAdmin(name);
  const admitsUnproven = (name: string | undefined): boolean => mode === 'optional'
    && (!store.multiTenant || openTenants.has(name === undefined ? DEFAULT_TENANT : store.tenantOf(name)));
  return {
    store,
    mode,
    isAdmin,
    admitsUnproven,

    async onIdentity(login, cid) {
      login.pending = undefined;
      login.authenticated = false;
      if (cid === '') return refuse('empty cid');
      const material = await keyOf(store, cid);
      if (typeof material === 'string') return refuse(material);
      if (material === undefined) {
        login.authenticated = login.trusted;
        return login.trusted || admitsUnproven(cid) ? ok() : refuse('authentication required');
      }
      const challenge = makeChallenge();
      login.pending = { cid, challenge };
      return { status: STATUS.CHALLENGE, data: challenge };
    },

    async onAttestation(login, cid, signature) {
      // Single use (spec §3.3 step 5): gone before anything is awaited, whatever the outcome.
      const pending = login.pending;
      login.pending = undefined;
      if (pending === undefined) return refuse('no challenge pending');
      if (pending.cid !== cid) return refuse(`challenge was issued for ${pending.cid}`);
      const material = await keyOf(store, cid);
      if (typeof material !== 'object' || !verifyAttestation(pending.challenge, cid, signature, material)) {
        return refuse('authentication failed');
      }
      login.authenticated = true;
      return ok();
    },

    async onRegister(cid, pin, pubkey, keyType, by) {
      try {
        validateKeyName(cid);
      } catch (err) {
        return refuse((err as Error).message);
      }
      const tenant = store.tenantOf(cid);
      const expected = store.pinFor(tenant);
      if (expected === undefined) return refuse(`tenant [${tenant}] not enabled`);
      if (!equalSecrets(pin, expected)) return refuse('wrong tenant/pin');
      if (parseKeyMaterial(pubkey).type !== 'public-key') return refuse('not an RSA or ECDSA public key');
      if (holdsRights(store, cid) && !(by !== undefined && isAdmin(by.name, by.proven))) {
        return refuse(`name ${cid} holds rights: only an admin may register it`);
      }
      try {
        if (await store.keyFor(cid) !== undefined) throw new KeyExistsError(cid);
        await store.saveKey(cid, pubkey, keyType);
        return ok();
      } catch (err) {
        if (err instanceof KeyExistsError) {
          return { status: STATUS.NAME_ALREADY_TAKEN, data: `name ${cid} not available for registration` };
        }
        return refuse(`cannot store the key of ${cid}`);
      }
    },

    async onUnregister(cid, authenticated) {
      if (!authenticated) return refuse('invalid operation');
      try {
        await store.deleteKey(cid);
        return ok();
      } catch {
        return refuse(`cannot remove the key of ${cid}`);
      }
    },

    authorize(name, _action, topic, proven) {
      return !store.isPrivate(topic) || (proven && (store.isAdmin(name) || store.isAuthorized(name, topic)));
    },

    async verifySecret(cid, secret) {
      const material = await keyOf(store, cid);
      return typeof material === 'object' && material.type === 'secret' && equalSecrets(secret, material.secret);
    },

    sameTenant(a, b) {
      return !store.multiTenant || store.tenantOf(a) === store.tenantOf(b);
    },
  };
}

/** Is `cid` an admin or named in a private topic's authorizations? */
function holdsRights(store: SecurityStore, cid: string): boolean {
  return store.isAdmin(cid) || Object.values(store.privateTopics()).some((names) => names.includes(cid));
}

/** The key material of `cid`, undefined when none, or the reason (text) it cannot be looked up. */
async function keyOf(store: SecurityStore, cid: string) {
  try {
    return await store.keyFor(cid);
  } catch (err) {
    return err instanceof InvalidNameError ? err.message : `cannot read the key of ${cid}`;
  }
}
