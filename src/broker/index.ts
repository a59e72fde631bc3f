export { broker, DEFAULT_PORT } from './broker.js';
export type { Broker, BrokerOptions, BrokerStats, Published, SchemaWriteOptions } from './types.js';
export type { FlowControlOptions } from './flow-control.js';
export { RpcPolicyError } from './rpc-policy.js';
export type { RpcPolicy, RpcPolicyName } from './rpc-policy.js';
export type { LinkState } from '../bridge/types.js';
export { memoryStore } from '../store/memory-store.js';
export type { MemoryStoreOptions } from '../store/memory-store.js';
export type { Store, StoredMessage, TwinRecord, LogQuery } from '../store/types.js';
export {
  caOptions, findCaFile, generateKeyPair, keystoreTlsFiles, loadTlsOptions, memorySecurityStore, openSecurityStore,
  InvalidKeyError, InvalidNameError, KeyExistsError, SecurityConfigError, TlsConfigError,
} from '../security/index.js';
export type { MemorySecurityConfig, SecurityStore, TlsFiles, TlsServerOptions } from '../security/index.js';
