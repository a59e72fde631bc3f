export { memoryLinkPair } from '../transport/memory-link.js';
export type { Link, Frame } from '../transport/link.js';
export { lossyLink } from './lossy-link.js';
export type { LossScript, Direction } from './lossy-link.js';
