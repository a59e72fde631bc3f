import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  // The package's `imports` map points #platform at dist/; tests run the sources (Node variant).
  resolve: { alias: { '#platform': fileURLToPath(new URL('./src/component/platform-node.ts', import.meta.url)) } },
  test: {
    include: ['test/**/*.test.ts', 'marbles/**/*.marbles.ts', 'examples/**/*.test.ts'],
    // The cluster tests start nats-server and broker processes: `npm run test:cluster` (vitest.cluster.config.ts).
    exclude: [...configDefaults.exclude, 'test/cluster/**'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Integration tests open real sockets; two cores on these machines.
    pool: 'forks',
  },
});
