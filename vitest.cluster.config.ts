import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * `npm run test:cluster`: the cluster tests (test/cluster), which start nats-server nodes and
 * broker processes; one file at a time, so that the kill -9 tests do not compete for the cores.
 */
export default defineConfig({
  resolve: { alias: { '#platform': fileURLToPath(new URL('./src/component/platform-node.ts', import.meta.url)) } },
  test: {
    include: ['test/cluster/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
