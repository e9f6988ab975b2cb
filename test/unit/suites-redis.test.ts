import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The integration and end-to-end suites run twice: on one Redis (`npm test`) and on a Redis Cluster
 * (`npm run test:ha`, through REDIS_CLUSTER_NODES). A suite that opens BullMQ's connection, or hands
 * a system its Redis, by REDIS_URL puts its queue on the single Redis while its store is on the
 * cluster: it passes here and fails only in the slow matrix. Caught here instead.
 */
// The fault and security suites run on one Redis only (some on a private redis-server they stop).
const DIRS = ['test/integration', 'test/e2e', 'test/support'];
const FORBIDDEN = [/connectRedisForQueue\(REDIS_URL\b/, /redisUrl:\s*REDIS_URL\b/, /startStack\(REDIS_URL\b/];

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('the suites’ Redis', () => {
  it('when a suite opens a queue connection or starts a system on the suites’ Redis, then it names REDIS_TARGET, not REDIS_URL', () => {
    const found: string[] = [];
    for (const file of DIRS.flatMap(files)) {
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (FORBIDDEN.some((re) => re.test(line))) found.push(`${file}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(found, 'use REDIS_TARGET from test/support/redis.ts (README, Tests)').toEqual([]);
  });
});
