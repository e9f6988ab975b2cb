import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const exec = promisify(execFile);

async function run(script: string, args: string[] = [], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await exec(process.execPath, ['--import', 'tsx', script, ...args], {
      env: { ...process.env, NO_COLOR: '1', ...env },
      timeout: 90_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe.concurrent('what a new user meets first', () => {
  it('when npm run demo runs with only Redis, then every step behaves and it exits 0', async () => {
    const r = await run('scripts/demo.ts');
    expect(r.stdout).toContain('Every step behaved as expected.');
    expect(r.code).toBe(0);
    for (const text of [
      '[ Approve ]  [ Deny ]',
      'Expires at',
      '→ 200',
      '403 {"error":"method_not_allowed"',
      'grant_revoked',
      'hash chain intact',
      // With sign-in on, a terminal cannot redeem the link; her signed-in browser shows the token once.
      'refused: 401 signin_required',
      'the page showed the token for grant g_',
      // The signed-in part, at the demo's local identity provider.
      'sent to the identity provider',
      '403: "Signed in as dana@example.com — you have no access to grafana"',
      'the page offers a form: role (viewer, editor)',
      'found her in Slack by e-mail (users.lookupByEmail)',
      '{"state":"approved","continueTo":"/grafana/d/errors"}',
      '200, no link, no token: the dashboard says "Signed in through jitgate as dana@example.com (U0DANA)',
    ]) {
      expect(r.stdout).toContain(text);
    }
    // The database part, against the machine's PostgreSQL (.ci/run starts it).
    for (const text of [
      'You have access to the database prod-db/readonly',
      '1 | keyboard |  49.90',
      'cannot execute DELETE in a read-only transaction',
      'was revoked by U0ALICE',
      'FATAL: jitgate grant_revoked',
      'db.session.started, db.session.ended',
    ]) {
      expect(r.stdout).toContain(text);
    }
    // The token itself is never printed.
    expect(r.stdout).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/);
    // The whole product in a child process, on a machine that may be busy running other suites.
  }, 90_000);

  it('when Redis does not answer, then the demo says how to start one and exits 1', async () => {
    const r = await run('scripts/demo.ts', [], { REDIS_URL: 'redis://127.0.0.1:1' });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('redis-server --daemonize yes');
  });

  it('when npm start has no Slack credentials, then it points to the demo and the manifest', async () => {
    const r = await run('scripts/start.ts', [], {
      SLACK_BOT_TOKEN: '',
      SLACK_SIGNING_SECRET: '',
      SLACK_APP_TOKEN: '',
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('SLACK_BOT_TOKEN');
    expect(r.stderr).toContain('npm run demo');
    expect(r.stderr).toContain('manifest.yml');
  });

  it('when npm start has Slack credentials but no keys, then it says how to generate them', async () => {
    const r = await run('scripts/start.ts', [], {
      SLACK_BOT_TOKEN: 'xoxb-placeholder',
      SLACK_SIGNING_SECRET: 'placeholder',
      JITGATE_SIGNING_KEYS: '',
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('npm run keys -- generate');
  });
});
