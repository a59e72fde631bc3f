/**
 * A broker without `cluster` loads no NATS code (issue 19: the single-broker path is unchanged):
 * the broker reaches src/cluster through type imports and one dynamic import of attach.ts, and
 * only the cluster modules that need it import the NATS client, and attach.ts loads them lazily.
 * Checked on the built modules too: a broker process started without --cluster, asked for its
 * loaded modules through a resolve hook, has none of them.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

/** Static (value) imports of a file: `import … from 'x'` that are not `import type`. */
function valueImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^import (?!type )[^;]*? from '([^']+)';/gmu)].map((m) => m[1]!);
}

describe('NATS stays out of a broker without a cluster', () => {
  it('no module outside src/cluster imports cluster code or NATS by value', () => {
    const offenders = [...sources('src')].filter((f) => !f.includes(`${join('src', 'cluster')}`))
      .flatMap((f) => valueImports(f).filter((s) => s.includes('cluster/') || s.startsWith('@nats-io/')).map((s) => `${f}: ${s}`));
    expect(offenders).toEqual([]);
  });

  it('inside src/cluster the modules that import NATS are imported by value only by each other (attach.ts loads them dynamically)', () => {
    const files = sources('src/cluster');
    const name = (f: string): string => f.split('/').pop()!;
    // The modules that reach NATS by value, directly or through each other.
    const nats = new Set(files.filter((f) => valueImports(f).some((s) => s.startsWith('@nats-io/'))).map(name));
    const isNats = (spec: string): boolean => nats.has(spec.replace(/^\.\//u, '').replace(/\.js$/u, '.ts'));
    for (let grew = true; grew;) {
      const more = files.filter((f) => !nats.has(name(f)) && valueImports(f).some(isNats)).map(name);
      for (const f of more) nats.add(f);
      grew = more.length > 0;
    }
    expect([...nats].sort()).toEqual(['cluster-rpc.ts', 'cluster-stream.ts', 'cluster.ts', 'core-publishes.ts', 'leader.ts', 'schema-writer.ts',
      'security-kv.ts', 'stream-publishes.ts', 'stream-replay.ts', 'twin-kv.ts']);
    expect(readFileSync(join(ROOT, 'src/cluster/attach.ts'), 'utf8')).toMatch(/import\('\.\/cluster\.js'\)/u);
  });

  it('a broker started without cluster resolves no @nats-io module (built code)', () => {
    const hook = `data:text/javascript,${encodeURIComponent(
      'export async function resolve(s, c, next) { if (s.includes("@nats-io") || s.includes("/cluster/cluster")) '
      + 'console.error("LOADED " + s); return next(s, c); }')}`;
    const script = `import { register } from 'node:module'; register(${JSON.stringify(hook)});
      const { broker } = await import('./dist/src/broker/index.js');
      const b = await broker({ port: 0, http: false }); await b.close(); console.error('OK');`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toContain('OK');
    expect(r.stderr).not.toContain('LOADED');
  }, 60_000);
});
