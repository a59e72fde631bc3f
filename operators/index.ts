/**
 * Entry `rembus/operators`: RxJS operators behind the component's and broker's delivery rules.
 *
 * @example
 * ```ts
 * import { retryBackoff, bufferWhileOffline, ackRetry, ackWindow, dedupeById, gatherQuorum } from 'rembus/operators';
 * ```
 */
export { retryBackoff } from './retry-backoff.js';
export type { RetryBackoffConfig } from './retry-backoff.js';
export { bufferWhileOffline } from './buffer-while-offline.js';
export type { BufferWhileOfflineConfig } from './buffer-while-offline.js';
export { ackRetry } from './ack-retry.js';
export type { AckRetryConfig } from './ack-retry.js';
export { ackWindow } from './ack-window.js';
export type { AckWindowConfig, AckWindowEvent } from './ack-window.js';
export { dedupeById } from './dedupe-by-id.js';
export type { DedupeByIdConfig } from './dedupe-by-id.js';
export { gatherQuorum } from './gather-quorum.js';
export type { GatherQuorumConfig, GatherSettled } from './gather-quorum.js';
export { presenceScan } from './presence-scan.js';
export { actionEvents } from './action-events.js';
export type { ActionItem } from './action-events.js';
export { groupDispatch, pickMember } from './group-dispatch.js';
export type { GroupDispatchConfig, GroupAssignment } from './group-dispatch.js';
export { retainedMerge } from './retained-merge.js';
export type { RetainedMergeConfig } from './retained-merge.js';
