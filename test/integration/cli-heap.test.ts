/**
 * `rembus broker` settles V8's heap once listening (src/cli/heap.ts; issue 20, W7): after
 * `settleBrokerHeap()` the young generation no longer doubles when scavenges keep finding many
 * survivors, unless the user gave Node that flag. Each case is a fresh Node process (the flags are
 * process-wide) running the built module under the same survivor-heavy load: a window of 20,000
 * live objects replaced 3 million times (~2 MiB alive at every scavenge).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');

/** New space's capacity before and after the load, in a fresh process; `settle`: the argument given, or none. */
function youngGeneration(settle: string | undefined, nodeFlags: string[] = []): { before: number; after: number } {
  const script = `import v8 from 'node:v8';
    const cap = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
    ${settle === undefined ? '' : `(await import('./dist/src/cli/heap.js')).settleBrokerHeap(${JSON.stringify(settle)});`}
    const before = cap();
    const ring = new Array(20000);
    for (let i = 0; i < 3_000_000; i++) ring[i % 20000] = { a: i, b: [i, i] };
    console.log(JSON.stringify({ before, after: cap() }));`;
  const r = spawnSync(process.execPath, [...nodeFlags, '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { before: number; after: number };
}

describe('settleBrokerHeap (built CLI module)', () => {
  it('without it the young generation grows under survivors; with it, it stays within one step', () => {
    const free = youngGeneration(undefined);
    expect(free.after).toBeGreaterThanOrEqual(4 * free.before);
    const settled = youngGeneration('');
    expect(settled.after).toBeLessThanOrEqual(2 * settled.before);
  }, 60_000);

  it("a growth factor the user gave Node wins (either spelling)", () => {
    for (const given of ['--semi-space-growth-factor=2', '--semi_space_growth_factor=2']) {
      const r = youngGeneration(given, [given]);
      expect(r.after).toBeGreaterThanOrEqual(4 * r.before);
    }
  }, 60_000);
});
