import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The image check installs and builds twice over: `npm run test:image` (test/image/vitest.config.ts).
    exclude: [...configDefaults.exclude, 'test/image/**'],
    environment: 'node',
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests share one Redis (each with its own key prefix) and start real servers.
    maxWorkers: 2,
  },
});
