/**
 * `npm run test:ha`: starts a 3-master Redis Cluster on loopback, then runs the integration and
 * end-to-end suites on it (REDIS_CLUSTER_NODES, which test/support/redis.ts and every child process
 * read) and the Sentinel failover test, which starts its own master, replica and sentinels.
 * Arguments go to vitest (e.g. a file filter).
 */
import { spawn } from 'node:child_process';
import { startRedisCluster } from './servers.js';

const cluster = await startRedisCluster(3);
console.log(`test:ha: Redis Cluster on ${cluster.seedList}`);
const code = await new Promise<number>((resolve) => {
  const child = spawn(
    'npx',
    ['vitest', 'run', '--config', 'test/ha/vitest.config.ts', ...process.argv.slice(2)],
    {
      stdio: 'inherit',
      env: { ...process.env, REDIS_CLUSTER_NODES: cluster.seedList },
    },
  );
  child.once('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
});
await cluster.close();
process.exit(code);
