// Size budget (issue 15): the browser bundle of the root entry (minified + gzip, rxjs excluded)
// and the disk size of a client-only install (`npm install rembus rxjs` in an empty project,
// from `npm pack` of this checkout, optional packages omitted as on a platform without the
// DuckDB/polars binaries). With --peers, nats.ws and mqtt are measured the same way.
// Needs `npm run build` first and the npm registry for the install step.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { bundleRootEntry } from './build-browser.mjs';

const root = new URL('..', import.meta.url).pathname;
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
const mib = (n) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

function du(dir) {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) total += du(p);
    else if (entry.isFile()) total += statSync(p).size;
  }
  return total;
}

function gz(file) {
  const bytes = readFileSync(file);
  return { min: bytes.length, gz: gzipSync(bytes, { level: 9 }).length };
}

const work = mkdtempSync(join(tmpdir(), 'rembus-size-'));
try {
  const out = join(work, 'rembus.js');
  await bundleRootEntry({ outfile: out, externalRxjs: true });
  const rembus = gz(out);
  console.log(`browser bundle of 'rembus' (rxjs excluded): ${kib(rembus.min)} minified, ${kib(rembus.gz)} gzip`);

  const npm = (args, cwd) => execFileSync('npm', args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] }).toString();
  const tgz = npm(['pack', '--silent', '--ignore-scripts', '--pack-destination', work], root).trim().split('\n').at(-1);
  const install = (name, specs) => {
    const dir = join(work, name);
    execFileSync('mkdir', ['-p', dir]);
    writeFileSync(join(dir, 'package.json'), '{"name":"probe","private":true,"type":"module"}');
    npm(['install', '--omit=optional', '--no-audit', '--no-fund', '--ignore-scripts=false', ...specs, 'rxjs'], dir);
    const nm = join(dir, 'node_modules');
    return { dir, total: du(nm), rxjs: du(join(nm, 'rxjs')) };
  };
  const client = install('client', [join(work, tgz)]);
  console.log(`client-only install (npm install rembus rxjs --omit=optional): ${mib(client.total - client.rxjs)} besides rxjs (${mib(client.total)} in all)`);
  const probe = join(client.dir, 'probe.mjs');
  writeFileSync(probe, "import { connect } from 'rembus'; try { await connect('ws://127.0.0.1:9/x', { connectTimeout: 200 }); } catch (e) { console.log('import ok; connect:', e.code); }");
  console.log(`  ${execFileSync('node', [probe], { cwd: client.dir }).toString().trim()}`);

  if (process.argv.includes('--peers')) {
    for (const [name, pkg, entry] of [['nats.ws', 'nats.ws', "export { connect } from 'nats.ws';"],
      ['mqtt', 'mqtt', "import * as mqtt from 'mqtt'; export default mqtt;"]]) {
      const peer = install(name, [pkg]);
      const src = join(peer.dir, 'entry.mjs');
      writeFileSync(src, entry);
      const file = join(peer.dir, 'bundle.js');
      await build({ entryPoints: [src], bundle: true, format: 'esm', platform: 'browser', minify: true, outfile: file,
        logLevel: 'silent', absWorkingDir: peer.dir, external: ['rxjs', 'crypto'] }); // nats.ws: a guarded Node fallback
      const size = gz(file);
      console.log(`${name}: browser bundle ${kib(size.min)} minified, ${kib(size.gz)} gzip; install ${mib(peer.total - peer.rxjs)} besides rxjs`);
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
