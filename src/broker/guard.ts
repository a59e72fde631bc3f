/**
 * The broker's authorization checks on its hot paths (spec §4.4, §5.2, §6.2): who may publish,
 * who receives a publish, who may call or serve a method. With no private topic and a single
 * tenant — every broker without provisioning — each check is one boolean test and the
 * fan-out does no per-subscriber work at all.
 */
import type { Authenticator } from '../security/authenticator.js';
import type { Twin } from './twin.js';

/** Which twins may receive (or serve) one message; undefined means all of them. */
export type Admits = ((twin: Twin) => boolean) | undefined;

export class Guard {
  constructor(readonly auth: Authenticator) {}

  /** True when any check can refuse anything: a private topic exists or tenants are isolated. */
  get active(): boolean {
    const store = this.auth.store;
    return store.hasPrivateTopics || store.multiTenant;
  }

  /** May `twin` publish on `topic`? An unauthorized publish is dropped without ACK (spec §4.2). */
  mayPublish(twin: Twin, topic: string): boolean {
    return !this.auth.store.hasPrivateTopics || this.auth.authorize(twin.name, 'publish', topic);
  }

  /** May `twin` call `method`? (spec §5.2 step 1) */
  mayCall(twin: Twin, method: string): boolean {
    return !this.auth.store.hasPrivateTopics || this.auth.authorize(twin.name, 'rpc', method);
  }

  /**
   * The subscribers of a publish on `topic` by `origin` (null: the broker itself): authorized
   * for the topic when it is private, and in the publisher's tenant when tenants are isolated.
   */
  receivers(origin: Twin | null, topic: string): Admits {
    const store = this.auth.store;
    if (!store.hasPrivateTopics && !store.multiTenant) return undefined;
    const restricted = store.isPrivate(topic);
    const tenant = store.multiTenant && origin !== null ? origin.name : undefined;
    if (!restricted && tenant === undefined) return undefined;
    return (twin) => (!restricted || this.auth.authorize(twin.name, 'deliver', topic))
      && (tenant === undefined || this.auth.sameTenant(tenant, twin.name));
  }

  /** The exposers that may serve `caller`'s call of `method`: same tenant, authorized to expose it. */
  servers(caller: Twin, method: string): Admits {
    const store = this.auth.store;
    if (!store.hasPrivateTopics && !store.multiTenant) return undefined;
    const restricted = store.isPrivate(method);
    if (!restricted && !store.multiTenant) return undefined;
    return (twin) => (!restricted || this.auth.authorize(twin.name, 'expose', method))
      && this.auth.sameTenant(caller.name, twin.name);
  }

  /** Is a direct-RPC target visible to `caller`? Another tenant's names are not (spec §5.3, 45). */
  sees(caller: Twin, target: string): boolean {
    return !this.auth.store.multiTenant || this.auth.sameTenant(caller.name, target);
  }

  /** For replay: the topics `twin` may receive; undefined when all (spec §4.7 with §6.2). */
  replayable(twin: Twin): ((topic: string) => boolean) | undefined {
    if (!this.auth.store.hasPrivateTopics) return undefined;
    return (topic) => this.auth.authorize(twin.name, 'deliver', topic);
  }
}
