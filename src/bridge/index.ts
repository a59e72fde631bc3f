/**
 * Entry `rembus/bridge`: federation of brokers from outside them (`bridge(urlA, urlB)`) or
 * between two components (`federate(a, b)`). Its own entry so that a broker that does not
 * bridge does not load the component stack it runs on.
 */
export { bridge, federate } from './federation.js';
export type { BridgeOptions } from './federation.js';
export type { BrokerAddress, BrokerTarget } from './credentials.js';
export type { FederationBridge, FederationOptions } from './types.js';
