export { memoryLinkPair } from '../transport/memory-link.js';
export type { Link, Frame } from '../transport/link.js';
export { lossyLink } from './lossy-link.js';
export type { LossScript, Direction } from './lossy-link.js';
export { virtualNetwork } from './virtual-network.js';
export type {
  VirtualBroker, VirtualBrokerOptions, VirtualComponentOptions, VirtualNetwork, VirtualNetworkOptions,
} from './virtual-network.js';
export { runInVirtualTime, VirtualTimeHangError } from './virtual-time.js';
export type { VirtualRunHelpers, VirtualRunOptions } from './virtual-time.js';
export { encodeCbor as encodeFrame, decodeCbor as decodeFrame } from '../codec/cbor.js';
export type { Msg } from '../protocol/messages.js';
