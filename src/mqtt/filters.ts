/**
 * The MQTT subscriptions of one component: one per distinct filter, shared by every pattern,
 * reply or method that needs it, each with its own MQTT 5 subscription identifier so that a
 * delivery is routed by the subscription it came through, not by its topic. Brokers send one
 * copy per matching subscription (Mosquitto) or one copy naming all of them (MQTT 5 §3.3.4);
 * either way each copy reaches only the owners of the subscriptions it names. Pure bookkeeping.
 */
import { mqttFilterMatches } from './translate.js';

/** Where a delivery goes: the concrete topic, the raw payload, QoS and MQTT 5 properties. */
/** `retain`: the MQTT broker sent a retained value (on subscribing). */
export type Delivery = (topic: string, payload: Uint8Array, qos: 0 | 1 | 2, properties: DeliveryProperties, retain?: boolean) => void;

/** The MQTT 5 publish properties a component reads. */
export interface DeliveryProperties {
  readonly responseTopic?: string | undefined;
  readonly correlationData?: Uint8Array | undefined;
  readonly subscriptionIdentifier?: number | number[] | undefined;
}

/** One MQTT subscription. */
export interface FilterEntry {
  /** The filter as subscribed, maybe `$share/<group>/…`. */
  readonly filter: string;
  /** Its subscription identifier (MQTT 5 §3.8.2.1.2), 1 … 268_435_455. */
  readonly id: number;
  /** MQTT 5 No Local: a publish of this component is not sent back on it. */
  readonly noLocal: boolean;
  /** Receives what arrives through this subscription. */
  readonly deliver: Delivery;
}

const MAX_SUBSCRIPTION_ID = 268_435_455;

/** The filters in use, refcounted. */
export class FilterTable {
  readonly #byFilter = new Map<string, { entry: FilterEntry; refs: number }>();
  readonly #byId = new Map<number, FilterEntry>();
  #nextId = 1;

  /**
   * Take a reference on `filter`, creating its entry on first use.
   * @returns The entry and whether it is new (the caller then subscribes it).
   */
  acquire(filter: string, noLocal: boolean, deliver: Delivery): { entry: FilterEntry; created: boolean } {
    const held = this.#byFilter.get(filter);
    if (held !== undefined) {
      held.refs++;
      return { entry: held.entry, created: false };
    }
    const entry: FilterEntry = { filter, id: this.#allocateId(), noLocal, deliver };
    this.#byFilter.set(filter, { entry, refs: 1 });
    this.#byId.set(entry.id, entry);
    return { entry, created: true };
  }

  /**
   * Drop a reference on `filter`.
   * @returns `true` when it was the last one (the caller then unsubscribes it).
   */
  release(filter: string): boolean {
    const held = this.#byFilter.get(filter);
    if (held === undefined || --held.refs > 0) return false;
    this.#byFilter.delete(filter);
    this.#byId.delete(held.entry.id);
    return true;
  }

  /** Every filter in use, e.g. to subscribe them again after a reconnect. */
  entries(): FilterEntry[] {
    return [...this.#byFilter.values()].map((h) => h.entry);
  }

  /**
   * The entries a delivery is for: those named by its subscription identifiers, or, from a
   * broker that sends none, every entry whose filter matches the topic.
   */
  route(topic: string, ids: number | number[] | undefined): FilterEntry[] {
    if (ids === undefined) return this.entries().filter((e) => mqttFilterMatches(e.filter, topic));
    const out: FilterEntry[] = [];
    for (const id of typeof ids === 'number' ? [ids] : ids) {
      const entry = this.#byId.get(id);
      if (entry !== undefined && !out.includes(entry)) out.push(entry);
    }
    return out;
  }

  #allocateId(): number {
    // Identifiers of released filters may be reused once the counter wraps; a late delivery for
    // a reused id is then checked again by the Rembus matcher of its new owner.
    do {
      const id = this.#nextId;
      this.#nextId = id >= MAX_SUBSCRIPTION_ID ? 1 : id + 1;
      if (!this.#byId.has(id)) return id;
    } while (this.#byId.size < MAX_SUBSCRIPTION_ID);
    throw new RangeError('no MQTT subscription identifier left');
  }
}
