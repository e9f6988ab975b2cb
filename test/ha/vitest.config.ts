import { configDefaults, defineConfig } from 'vitest/config';

/**
 * The slow matrix (`npm run test:ha`, which starts the cluster first): the integration and
 * end-to-end suites again on a 3-master Redis Cluster, and the Sentinel failover test.
 */
export default defineConfig({
  test: {
    include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts', 'test/ha/**/*.test.ts'],
    exclude: [
      ...configDefaults.exclude,
      // No Redis in them: nothing changes on a cluster.
      'test/integration/deploy-files.test.ts',
      'test/integration/keys-cli.test.ts',
      'test/integration/slack-standin.test.ts',
      // Each runs on a private single redis-server it stops and starts; not on the shared Redis.
      'test/e2e/authorizer-redis-down.test.ts',
      'test/integration/ask-redis-away.test.ts',
      // `npm run demo` is the single-Redis quick start by design.
      'test/e2e/demo.test.ts',
    ],
    environment: 'node',
    pool: 'forks',
    isolate: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
  },
});
