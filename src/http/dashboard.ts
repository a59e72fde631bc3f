/**
 * The dashboard's static assets, served at `/` and `/dashboard/*`. The page is a rembus
 * component in the browser: it logs in over WebSocket and draws the `__broker__/stats` topic.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** Assets live next to the compiled module (copied by the build) or in the source tree. */
const ROOTS = [join(here, 'dashboard'), join(here, '..', '..', '..', 'src', 'http', 'dashboard')];
const TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css' };
const FILES = new Set(['index.html', 'dashboard.js', 'dashboard.css', 'client.js']);
/** `client.js` is the root entry's browser bundle (`npm run build:browser`): from dist/src/http or src/http. */
const BUNDLES = [join(here, '..', '..', 'browser', 'rembus.js'), join(here, '..', '..', 'dist', 'browser', 'rembus.js')];
const cache = new Map<string, { type: string; body: Uint8Array }>();

/** The asset for `path` (`/` is the page), or undefined. */
export function dashboardAsset(path: string): { type: string; body: Uint8Array } | undefined {
  const file = path === '/' ? 'index.html' : path.slice('/dashboard/'.length);
  if (!FILES.has(file)) return undefined;
  let asset = cache.get(file);
  if (asset === undefined) {
    for (const path of file === 'client.js' ? BUNDLES : ROOTS.map((root) => join(root, file))) {
      try {
        asset = { type: TYPES[file.split('.').pop()!] ?? 'application/octet-stream', body: readFileSync(path) };
        break;
      } catch { /* try the next root */ }
    }
    if (asset === undefined) return undefined;
    cache.set(file, asset);
  }
  return asset;
}
