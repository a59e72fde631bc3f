// Bundle the root entry `rembus` for browsers: dist/browser/rembus.js, one self-contained ES
// module (the rxjs it uses included, minified). Built from the compiled dist/src so the bundle
// is exactly what the package ships; the package's `imports` map picks platform-web.js
// (`globalThis.WebSocket`, WebCrypto) because the `node` condition is not set here.
// Usage: node scripts/build-browser.mjs [--external-rxjs --outfile F] (the size script uses that).
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Bundle the root entry; returns esbuild's result (with a metafile). */
export async function bundleRootEntry({ outfile = `${root}dist/browser/rembus.js`, externalRxjs = false } = {}) {
  return build({
    entryPoints: [`${root}dist/src/index.js`],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    // Resolve `#platform` through package.json, not the dev tsconfig `paths` (which point at Node).
    tsconfigRaw: {},
    external: externalRxjs ? ['rxjs'] : [],
    outfile,
    metafile: true,
    logLevel: 'warning',
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await bundleRootEntry();
  const out = Object.entries(result.metafile.outputs)[0];
  console.log(`${out[0]}: ${(out[1].bytes / 1024).toFixed(1)} KiB minified`);
}
