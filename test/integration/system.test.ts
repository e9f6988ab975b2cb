import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startSlackStandin } from '../../dev/slack/standin.js';
import { loadConfig } from '../../shared/config.js';
import { isJitgateError } from '../../shared/errors.js';
import { createLogger } from '../../shared/log.js';
import { loadPolicy } from '../../shared/policy/index.js';
import { generateSigningKeySet, loadSigningKeys } from '../../shared/tokens/index.js';
import { type Role, type SystemOverrides, startSystem } from '../../system/start.js';
import { REDIS_TARGET, testRedis } from '../support/redis.js';

const POLICY = `
defaults: { approvalChannel: C0APPROVALS }
resources:
  app:
    upstream: http://127.0.0.1:9
    match: { pathPrefix: /app }
    approvers: { users: [U0ALICE] }
`;
const silent = createLogger('system-test', 'silent');
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function started(roles: Role[], o: SystemOverrides) {
  const test = await testRedis();
  cleanups.push(() => test.cleanup());
  const standin = await startSlackStandin({ unknownUsers: 'derived' });
  cleanups.push(() => standin.close());
  const system = await startSystem({
    roles,
    overrides: {
      redis: test.redis,
      redisUrl: REDIS_TARGET,
      prefix: test.prefix,
      policy: loadPolicy(POLICY),
      signingKeys: await loadSigningKeys(JSON.stringify(await generateSigningKeySet())),
      slack: { botToken: 'xoxb-test', signingSecret: 'secret' },
      slackApiUrl: standin.apiUrl,
      log: silent,
      botPort: 0,
      authorizerPort: 0,
      authorizerHost: '127.0.0.1',
      ...o,
    },
  });
  cleanups.push(() => system.stop());
  return { system, test };
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (isJitgateError(err, 'config_invalid')) return err.message;
    throw err;
  }
  throw new Error('expected config_invalid');
}

describe('startSystem', () => {
  it('when a role lacks what it needs, then it refuses before starting, saying how to fix it', async () => {
    const bare = loadConfig({ LOG_LEVEL: 'silent' });
    expect(await refusal(startSystem({ roles: ['authorizer'], config: bare }))).toContain(
      'npm run keys -- generate',
    );
    const worker = await refusal(startSystem({ roles: ['worker'], config: bare }));
    expect(worker).toContain('SLACK_BOT_TOKEN');
    // The worker alone only posts: it needs no signing secret.
    expect(worker).not.toContain('SLACK_SIGNING_SECRET');
    expect(await refusal(startSystem({ roles: ['bot'], config: bare }))).toContain('SLACK_SIGNING_SECRET');
  });

  it('when roles are chosen, then exactly those run, and stop leaves a lent connection open', async () => {
    const all = await started(['authorizer', 'bot', 'worker'], {});
    expect(all.system.redis).toBe(all.test.redis);
    expect(all.system.worker).toBeDefined();
    expect((await fetch(`${all.system.authorizer!.url}/_jitgate/readyz`)).status).toBe(200);
    expect((await fetch(`${all.system.bot!.url}/slack/events`, { method: 'POST' })).status).toBe(401);
    await all.system.stop();
    await expect(fetch(`${all.system.authorizer!.url}/_jitgate/readyz`)).rejects.toThrow();
    expect(await all.test.redis.ping()).toBe('PONG');

    const bot = await started(['bot'], {});
    expect(bot.system.worker).toBeUndefined();
    expect(bot.system.authorizer).toBeUndefined();
    const worker = await started(['worker'], {});
    expect(worker.system.bot).toBeUndefined();
    expect(worker.system.worker).toBeDefined();
    expect(worker.system.deps?.store).toBeDefined();
  });

  it('when the policy file changes, then reloadPolicy takes it, and keeps the old one if the new is bad', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jitgate-system-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'policy.yml');
    writeFileSync(file, POLICY);
    const { system } = await started(['authorizer'], { policy: file });
    expect([...system.policy().resources.keys()]).toEqual(['app']);
    writeFileSync(file, POLICY.replace('  app:', '  other:'));
    expect(system.reloadPolicy()).toBe(true);
    expect([...system.policy().resources.keys()]).toEqual(['other']);
    writeFileSync(file, 'resources: [');
    expect(system.reloadPolicy()).toBe(false);
    expect([...system.policy().resources.keys()]).toEqual(['other']);

    const fixed = await started(['authorizer'], {});
    expect(fixed.system.reloadPolicy()).toBe(false);
  });
});
