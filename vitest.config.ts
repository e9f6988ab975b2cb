import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The image check installs and builds twice over: `npm run test:image` (test/image/vitest.config.ts).
    // The cluster and Sentinel matrix starts its own Redis servers: `npm run test:ha` (test/ha/).
    exclude: [...configDefaults.exclude, 'test/image/**', 'test/ha/**'],
    environment: 'node',
    pool: 'forks',
    // Each worker imports Bolt, BullMQ, jose and the rest once for all the files it runs instead of
    // once per file (about half the suite's CPU time). Tests keep their state in their own servers,
    // Redis prefixes and queues, and nothing mocks modules, so files do not see each other.
    isolate: false,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests share one Redis (each with its own key prefix) and start real servers.
    maxWorkers: 2,
  },
});
