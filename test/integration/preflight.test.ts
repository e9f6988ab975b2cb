import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { isJitgateError } from '../../shared/errors.js';
import { generateSigningKeySet } from '../../shared/tokens/index.js';
import { type Role, startSystem } from '../../system/start.js';

const GOOD_POLICY = `
defaults: { approvalChannel: C0APPROVALS }
resources:
  app:
    upstream: http://127.0.0.1:9
    match: { pathPrefix: /app }
    approvers: { users: [U0ALICE] }
`;
const BAD_POLICY = `
defaults: { approvalChannel: C0APPROVALS }
resources:
  app:
    upstream: ftp://127.0.0.1:9
    match: { pathPrefix: /app }
    approvers: { users: [U0ALICE] }
    maxDuration: 4 hours
`;

const dir = mkdtempSync(join(tmpdir(), 'jitgate-preflight-'));
const write = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const goodPolicy = write('good.yml', GOOD_POLICY);
const badPolicy = write('bad.yml', BAD_POLICY);
const goodKeys = write('keys.json', JSON.stringify(await generateSigningKeySet('ES256')));
const bannerKeys = write(
  'banner.json',
  '\n> jitgate@0.1.0 keys\n> tsx scripts/keys.ts generate\n\n{"keys":[]}\n',
);

/** A redis URL nothing listens on: a start that got past its checks would hang or fail differently. */
const NOWHERE = 'redis://127.0.0.1:1';

/** The message a start refused with (config_invalid), or the error if it was something else. */
async function refusal(roles: Role[], env: Record<string, string>): Promise<string> {
  try {
    const system = await startSystem({ roles, env: { LOG_LEVEL: 'silent', REDIS_URL: NOWHERE, ...env } });
    await system.stop();
  } catch (err) {
    if (isJitgateError(err, 'config_invalid')) return err.message;
    throw err;
  }
  throw new Error('expected the start to be refused');
}

describe('start-up checks: every problem at once', () => {
  it('when the environment, the Slack credentials, the keys and the policy are all wrong, then one message lists all four, each with what to do', async () => {
    const message = await refusal(['authorizer', 'bot', 'worker'], {
      REDIS_URL: 'http://127.0.0.1:6379',
      BOT_PORT: '99999',
      JITGATE_SIGNING_KEYS: bannerKeys,
      JITGATE_POLICY: badPolicy,
    });
    expect(message).toMatch(/^jitgate cannot start: 4 problems, each with what to do\./);
    // The environment, both variables, each with an example.
    expect(message).toContain('1. jitgate cannot start; fix the environment:');
    expect(message).toMatch(/REDIS_URL: must start with redis:\/\/ .*\(e\.g\. REDIS_URL=/);
    expect(message).toMatch(/BOT_PORT: must be 0 to 65535 \(e\.g\. BOT_PORT=3000\)/);
    // Slack, with where the credentials come from.
    expect(message).toContain('2. jitgate needs Slack credentials:');
    expect(message).toContain('SLACK_BOT_TOKEN: not set');
    expect(message).toContain('npm run demo');
    // The keys, with a command that works.
    expect(message).toContain("3. JITGATE_SIGNING_KEYS is not valid JSON: it begins with npm's banner");
    expect(message).toContain('npm run keys -- generate --out keys.json');
    // The policy, with key paths, from the file the environment named.
    expect(message).toContain(`4. ${badPolicy} is not a valid policy:`);
    expect(message).toContain('resources.app.upstream');
    expect(message).toContain('resources.app.maxDuration');
  });

  it('when a variable is wrong, then the keys and policy are still checked at the paths the environment gives', async () => {
    // JITGATE_POLICY is good: no spurious "no policy at ./policy.yml" from a default standing in.
    const envOnly = await refusal(['authorizer'], {
      LOG_LEVEL: 'loud',
      JITGATE_SIGNING_KEYS: goodKeys,
      JITGATE_POLICY: goodPolicy,
    });
    expect(envOnly).toMatch(/^jitgate cannot start; fix the environment:\n {2}LOG_LEVEL: must be one of/);
    expect(envOnly).not.toContain('policy');
    // Sign-in half set up, no keys at all, no policy file: three problems.
    const three = await refusal(['authorizer'], {
      JITGATE_OIDC_ISSUER: 'https://slack.com',
      JITGATE_POLICY: join(dir, 'missing.yml'),
    });
    expect(three).toMatch(/^jitgate cannot start: 3 problems/);
    expect(three).toContain('JITGATE_OIDC_CLIENT_ID: not set, but JITGATE_OIDC_ISSUER is');
    expect(three).toContain('JITGATE_SIGNING_KEYS is not set');
    expect(three).toContain(`There is no policy file at ${join(dir, 'missing.yml')}`);
  });

  it('when a role does not need a part, then that part is not asked for', async () => {
    // The authorizer never needs Slack; the worker never needs the keys.
    const authorizer = await refusal(['authorizer'], { JITGATE_POLICY: badPolicy });
    expect(authorizer).not.toContain('SLACK_');
    expect(authorizer).toContain('JITGATE_SIGNING_KEYS is not set');
    const worker = await refusal(['worker'], { JITGATE_POLICY: badPolicy, JITGATE_SIGNING_KEYS: '{nope' });
    expect(worker).not.toContain('JITGATE_SIGNING_KEYS');
    expect(worker).toContain('SLACK_BOT_TOKEN');
    expect(worker).not.toContain('SLACK_SIGNING_SECRET');
  });

  it('when an entry file starts with everything wrong, then it prints every problem on stderr, no stack, and exits 1', async () => {
    const exec = promisify(execFile);
    const result = await exec(process.execPath, ['--import', 'tsx', 'authorizer/main.ts'], {
      env: {
        PATH: process.env.PATH ?? '',
        REDIS_URL: NOWHERE,
        AUTHORIZER_PORT: 'eighty',
        JITGATE_SIGNING_KEYS: '{"keys": []}',
        JITGATE_POLICY: badPolicy,
      },
    }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => err,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^jitgate cannot start: 3 problems/);
    expect(result.stderr).toContain('AUTHORIZER_PORT: must be a port number');
    expect(result.stderr).toContain('JITGATE_SIGNING_KEYS is an empty key set');
    expect(result.stderr).toContain('resources.app.upstream');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);
});
