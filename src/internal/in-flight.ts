/**
 * A table of the requests in flight by id that does not churn. V8 shrinks a `Map`'s hash table
 * once it is less than a quarter full and grows it back at the next `set`: with one call in
 * flight at a time (sequential RPC, W4), every call allocated two new tables (~150 bytes per
 * set/delete, measured in process). One resident entry under a key no id can be keeps the table
 * from shrinking; it is then rebuilt, at the same size, once every three calls (~50 bytes).
 * Only what the request tables use of `Map`; iteration and `size` leave the resident entry out.
 */
const RESIDENT: unique symbol = Symbol('resident');

export class InFlight<K, V> implements Iterable<[K, V]> {
  private readonly map = new Map<K | typeof RESIDENT, V | undefined>([[RESIDENT, undefined]]);

  get size(): number {
    return this.map.size - 1;
  }

  get(id: K): V | undefined {
    return this.map.get(id);
  }

  has(id: K): boolean {
    return this.map.has(id);
  }

  set(id: K, value: V): this {
    this.map.set(id, value);
    return this;
  }

  delete(id: K): boolean {
    return this.map.delete(id);
  }

  clear(): void {
    this.map.clear();
    this.map.set(RESIDENT, undefined);
  }

  /** The entries in insertion order; deleting the current one while iterating is allowed. */
  *[Symbol.iterator](): IterableIterator<[K, V]> {
    for (const entry of this.map) if (entry[0] !== RESIDENT) yield entry as [K, V];
  }
}
