/** Browsers, Deno, Bun and any runtime with `globalThis.WebSocket` (see platform.ts). */
import { arrowFrames, ipcFrames, type ArrowModule, type DataFrameCodec } from '../dataframe/frames.js';
import { dialNativeWebSocket } from '../transport/native-ws-link.js';
import { UnsupportedSchemeError } from '../errors.js';
import type { Platform } from './platform.js';

/**
 * apache-arrow where the page can load it (an import map, Deno, a runtime with node_modules);
 * the specifier is a variable so bundlers leave it alone (inject it with `useDataFrames`).
 */
const ARROW = 'apache-arrow';
let arrow: DataFrameCodec | undefined;
let probe: Promise<void> | undefined;
const loadArrow = (): Promise<void> => probe ??= import(/* @vite-ignore */ ARROW)
  .then((m: ArrowModule) => { arrow = arrowFrames(m); }, () => undefined);

export const platform: Platform = {
  // No TCP sockets here: tcp:// and tls:// (spec §1.4) are Node only.
  dial: (url, { connectTimeout }) => /^(tcp|tls):/i.test(url)
    ? Promise.reject(new UnsupportedSchemeError(url, url.slice(0, 3).toLowerCase(), 'this runtime has no TCP sockets: use ws:// or wss://'))
    : loadArrow().then(() => dialNativeWebSocket(url, { connectTimeout })),
  frames: () => arrow ?? ipcFrames,
  signer: () => import('./webcrypto-sign.js'),
};
