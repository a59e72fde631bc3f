/**
 * The in-process components through which a broker of a cluster serves the calls of the other
 * brokers' components (cluster-rpc.ts), so that its own routing — exposer policy, tenants,
 * targets, streams — applies to them as to a caller connected here:
 *
 * - **main**, `<broker>.cluster.<id>`: serves every call while tenants are not isolated, and
 *   hears the presence events that make the broker advertise at once.
 * - **one per caller tenant** while tenants are isolated, a name of that tenant
 *   (`cluster-<id>.<tenant>`; `cluster-<id>` for the default tenant `.`), made at the tenant's
 *   first call: the broker's routing then offers it that tenant's exposers and names only.
 *
 * Each is a delegate (src/broker/trusted-links.ts): trusted, no presence of its own, and its
 * name's private-method rights are not asked — the serving broker checks the caller's before it
 * calls through one. Bounded: at most `capacity` tenants; a call of one more tenant is refused.
 */
import { delegateLink } from '../broker/trusted-links.js';
import { component } from '../component/component.js';
import type { Component } from '../component/types.js';
import { DEFAULT_TENANT, validateKeyName } from '../security/names.js';
import { memoryLinkPair } from '../transport/memory-link.js';
import type { ClusterHost } from './cluster-host.js';

/** Default most tenants served with delegates of their own. */
export const DEFAULT_DELEGATE_TENANTS = 1_000;

export class Delegates {
  /** Serves the calls of other brokers while tenants are not isolated. */
  readonly main: Component;
  readonly mainName: string;
  private readonly byTenant = new Map<string, Component>();
  private full = false;
  private closed = false;

  constructor(private readonly host: ClusterHost, private readonly id: string, private readonly capacity = DEFAULT_DELEGATE_TENANTS) {
    this.mainName = `${host.name}.cluster.${id}`;
    this.main = this.open(this.mainName);
  }

  /**
   * The delegate of `tenant`, made at its first call; undefined past capacity (logged once),
   * when no name of the tenant can be made (too long), or once closed.
   */
  of(tenant: string): Component | undefined {
    const known = this.byTenant.get(tenant);
    if (known !== undefined || this.closed) return known;
    if (this.byTenant.size >= this.capacity) {
      if (!this.full) this.host.log.warn({ capacity: this.capacity }, 'cluster RPC: too many caller tenants, calls of further ones refused');
      this.full = true;
      return undefined;
    }
    const name = tenant === DEFAULT_TENANT ? `cluster-${this.id}` : `cluster-${this.id}.${tenant}`;
    try {
      validateKeyName(name);
    } catch {
      return undefined;
    }
    const delegate = this.open(name);
    this.byTenant.set(tenant, delegate);
    return delegate;
  }

  private open(name: string): Component {
    return component(`ws://in-process:0/${encodeURIComponent(name)}`, {
      logger: this.host.log,
      dial: () => {
        const [mine, broker] = memoryLinkPair([`in-process:${name}`, `in-process:${this.host.name}`]);
        this.host.attach(delegateLink(broker));
        return Promise.resolve(mine);
      },
    });
  }

  /** Close every delegate; idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [this.main, ...this.byTenant.values()];
    this.byTenant.clear();
    await Promise.all(all.map((c) => c.close()));
  }
}
