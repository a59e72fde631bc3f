export { broker, DEFAULT_PORT } from './broker.js';
export type { Broker, BrokerOptions } from './types.js';
