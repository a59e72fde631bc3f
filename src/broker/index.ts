export { broker, DEFAULT_PORT } from './broker.js';
export type { Broker, BrokerOptions, BrokerStats, Published } from './types.js';
export { memoryStore } from '../store/memory-store.js';
export type { Store, StoredMessage, TwinRecord, LogQuery } from '../store/types.js';
