import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The package's `imports` map points #platform at dist/; tests run the sources (Node variant).
  resolve: { alias: { '#platform': fileURLToPath(new URL('./src/component/platform-node.ts', import.meta.url)) } },
  test: {
    include: ['test/**/*.test.ts', 'marbles/**/*.marbles.ts', 'examples/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Integration tests open real sockets; two cores on these machines.
    pool: 'forks',
  },
});
