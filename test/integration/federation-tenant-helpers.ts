/**
 * What the federation-across-tenants tests share: broker B with tenants `acme` and `beta`
 * isolated and a shared secret on file for each test name, proven connections, and a publisher
 * that repeats until the bridge has attached.
 */
import { waitFor, type Scope } from './helpers.js';
import { memoryStore, type Broker } from '../../src/broker/index.js';
import type { Component, Message } from '../../src/index.js';
import { memorySecurityStore } from '../../src/security/index.js';

/** The shared secret of a test name. */
export const secret = (name: string): string => `${name} secret`;
/** The names with a key on file at {@link tenantBroker}: two bridges, one per tenant, and three components. */
export const NAMES = ['x.acme', 'y.beta', 'mate.acme', 'pub.beta', 'spy.beta'];
/** Messages as `topic:first arg`. */
export const seen = (ms: Message[]): string[] => ms.map((m) => `${m.topic}:${String(m.args[0])}`);

/** B: tenants acme and beta isolated, a shared secret on file for each of {@link NAMES}, a message log. */
export function tenantBroker(scope: Scope, name = 'b'): Promise<Broker> {
  return scope.broker({ name, store: memoryStore(), security: memorySecurityStore({
    tenants: { acme: '1111', beta: '2222' },
    keys: Object.fromEntries(NAMES.map((n) => [n, secret(n)])),
  }) });
}

/** A connection to `b` as `name`, proven with its secret. */
export function proven(scope: Scope, b: Broker, name: string): Promise<Component> {
  return scope.connect(b, name, { key: secret(name) });
}

/** Publish `value` on `topic` until `got` has a value (the bridge attaches after it is up). */
export async function publishUntil(node: Component, got: { values: unknown[] }, topic: string, value: unknown,
  ms = 8_000): Promise<void> {
  await waitFor(() => {
    if (got.values.length > 0) return true;
    node.publish(topic, value);
    return false;
  }, { timeout: ms, interval: 100, what: `'${topic}' to cross` });
}
