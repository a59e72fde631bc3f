export { broker, DEFAULT_PORT } from './broker.js';
export type { Broker, BrokerOptions, BrokerStats, Published, SchemaWriteOptions } from './types.js';
export type { FlowControlOptions } from './flow-control.js';
export { RpcPolicyError } from './rpc-policy.js';
export type { RpcPolicy, RpcPolicyName } from './rpc-policy.js';
export type { LinkState } from '../bridge/types.js';
export type { ClusterOptions } from '../cluster/types.js';
export { memoryStore } from '../store/memory-store.js';
export type { MemoryStoreOptions } from '../store/memory-store.js';
export type { Store, StoreBatch, StoredMessage, TwinDelta, TwinRecord, LogQuery } from '../store/types.js';
export { openLmdbStore } from '../store/lmdb/open.js';
export type { FsyncMode, LmdbStoreOptions } from '../store/lmdb/lmdb-store.js';
export { StoreFailedError, StoreUnavailableError, StoreWriteError } from '../store/errors.js';
export { DataDirLockedError } from '../store/data-dir-lock.js';
export {
  caOptions, findCaFile, generateKeyPair, keystoreTlsFiles, loadTlsOptions, memorySecurityStore, openSecurityStore,
  InvalidKeyError, InvalidNameError, KeyExistsError, SecurityConfigError, TlsConfigError,
} from '../security/index.js';
export type { MemorySecurityConfig, SecurityStore, TlsFiles, TlsServerOptions } from '../security/index.js';
export { STATS_TOPIC } from './stats-topic.js';
export type { HttpOptions, StatsSnapshot } from '../http/index.js';
