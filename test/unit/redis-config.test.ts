import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../shared/config.js';
import { JitgateError } from '../../shared/errors.js';
import { describeRedis, parseHostPorts, redisTarget, urlCredentials } from '../../shared/redis/target.js';

function problemsOf(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof JitgateError && err.code === 'config_invalid') return err.message;
    throw err;
  }
  throw new Error('expected config_invalid');
}

describe('the Redis a deployment names', () => {
  it('when only REDIS_URL is set, then it is one Redis', () => {
    expect(redisTarget(loadConfig({ REDIS_URL: 'rediss://:pw@redis.internal:6380/2' }))).toEqual({
      kind: 'single',
      url: 'rediss://:pw@redis.internal:6380/2',
    });
  });

  it('when REDIS_CLUSTER_NODES is set, then it is a cluster seeded by those nodes, with REDIS_URL for the password and TLS', () => {
    const config = loadConfig({
      REDIS_CLUSTER_NODES: ' 10.0.0.1:7000, redis-1.internal:7001,[fd00::1]:7002 ',
      REDIS_URL: 'rediss://jit:s%40cret@ignored:6379',
    });
    const target = redisTarget(config);
    expect(target).toEqual({
      kind: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: 'redis-1.internal', port: 7001 },
        { host: 'fd00::1', port: 7002 },
      ],
      url: 'rediss://jit:s%40cret@ignored:6379',
    });
    expect(urlCredentials(target.url)).toEqual({ username: 'jit', password: 's@cret', tls: {} });
    expect(describeRedis(target)).toBe(
      'Redis Cluster via 10.0.0.1:7000,redis-1.internal:7001,[fd00::1]:7002',
    );
  });

  it('when REDIS_SENTINELS and REDIS_SENTINEL_MASTER are set, then it is the master Sentinel names, with the database from REDIS_URL', () => {
    const target = redisTarget(
      loadConfig({
        REDIS_SENTINELS: '10.0.0.1:26379,10.0.0.2:26379,10.0.0.3:26379',
        REDIS_SENTINEL_MASTER: 'jitgate-main',
        REDIS_URL: 'redis://:pw@sentinel-managed/3',
      }),
    );
    expect(target).toMatchObject({ kind: 'sentinel', master: 'jitgate-main' });
    expect(urlCredentials(target.url)).toEqual({ password: 'pw', db: 3 });
    expect(describeRedis(target)).toBe(
      'Redis master "jitgate-main" via the sentinels 10.0.0.1:26379,10.0.0.2:26379,10.0.0.3:26379',
    );
  });

  it('when a target is described, then its password is not', () => {
    const text = describeRedis(redisTarget(loadConfig({ REDIS_URL: 'redis://:hunter2@db:6379' })));
    expect(text).not.toContain('hunter2');
    expect(text).toContain('db:6379');
  });
});

describe('Redis settings that cannot work are refused with what to do', () => {
  it.each([
    ['', 'is empty'],
    [',', 'is empty'],
    ['10.0.0.1:7000,,10.0.0.2:7000', 'empty entry'],
    ['10.0.0.1:7000,', 'empty entry'],
    ['10.0.0.1', '"10.0.0.1", which is not host:port'],
    ['10.0.0.1:', 'not host:port'],
    [':7000', 'not host:port'],
    ['redis://10.0.0.1:7000', 'not host:port'],
    ['10.0.0.1:70000', 'the port must be 1 to 65535'],
    ['10.0.0.1:0', 'the port must be 1 to 65535'],
    ['10.0.0.1:7000x', 'not host:port'],
    ['::1:7000', 'not host:port'],
    ['bad_host!:7000', 'not a host name'],
    ['-leading.example:7000', 'not a host name'],
    ['10.0.0.1:7000,10.0.0.1:7000', 'names 10.0.0.1:7000 twice'],
    ['10.0.0.1:7000 10.0.0.2:7000', 'not host:port'],
  ])('when a host:port list is %j, then it says %s', (list, problem) => {
    const read = parseHostPorts(list);
    expect(read).toHaveProperty('problem');
    expect((read as { problem: string }).problem).toContain(problem);
    for (const name of ['REDIS_CLUSTER_NODES', 'REDIS_SENTINELS']) {
      const message = problemsOf(
        name === 'REDIS_SENTINELS'
          ? { [name]: list || ',', REDIS_SENTINEL_MASTER: 'm' }
          : { [name]: list || ',' },
      );
      expect(message).toContain(`${name}:`);
      expect(message).toContain(`e.g. ${name}=`);
    }
  });

  it('when both a cluster and sentinels are named, then it says to choose one', () => {
    const message = problemsOf({
      REDIS_CLUSTER_NODES: '10.0.0.1:7000',
      REDIS_SENTINELS: '10.0.0.1:26379',
      REDIS_SENTINEL_MASTER: 'm',
    });
    expect(message).toMatch(/REDIS_SENTINELS: set beside REDIS_CLUSTER_NODES.*unset one of them/);
  });

  it('when sentinels are named without the master, or the master without sentinels, then it says which is missing', () => {
    expect(problemsOf({ REDIS_SENTINELS: '10.0.0.1:26379' })).toMatch(
      /REDIS_SENTINEL_MASTER: not set, but REDIS_SENTINELS is .*sentinel monitor <name>/,
    );
    expect(problemsOf({ REDIS_SENTINEL_MASTER: 'mymaster' })).toMatch(
      /REDIS_SENTINELS: not set, but REDIS_SENTINEL_MASTER is/,
    );
    expect(problemsOf({ REDIS_SENTINELS: '10.0.0.1:26379', REDIS_SENTINEL_MASTER: 'my master' })).toContain(
      'REDIS_SENTINEL_MASTER: may hold letters, digits and _ . - only',
    );
  });

  it('when a cluster is given a database other than 0, then it says a cluster has only database 0', () => {
    const message = problemsOf({ REDIS_CLUSTER_NODES: '10.0.0.1:7000', REDIS_URL: 'redis://:pw@x:6379/4' });
    expect(message).toMatch(
      /REDIS_URL: selects database 4, but a Redis Cluster has only database 0 \(drop the \/4/,
    );
    expect(message).not.toContain('pw@');
    // Database 0, said or not, is fine.
    expect(() =>
      loadConfig({ REDIS_CLUSTER_NODES: '10.0.0.1:7000', REDIS_URL: 'redis://x:6379/0' }),
    ).not.toThrow();
    expect(() =>
      loadConfig({ REDIS_CLUSTER_NODES: '10.0.0.1:7000', REDIS_URL: 'redis://x:6379/' }),
    ).not.toThrow();
  });

  it('when several Redis settings and other variables are wrong, then one error lists them all', () => {
    const message = problemsOf({
      REDIS_URL: 'redis://x/2',
      REDIS_CLUSTER_NODES: '10.0.0.1:7000',
      REDIS_SENTINELS: 'nope',
      BOT_PORT: 'eighty',
    });
    for (const part of ['REDIS_SENTINELS:', 'BOT_PORT:']) expect(message).toContain(part);
  });
});
