import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run as policy } from '../../scripts/policy.js';
import { runCli, spawnCli } from '../support/cli.js';

/** `npm run policy -- <args>`, run in this process: what it printed and its exit code. */
const policyCli = (args: string[], env: Record<string, string> = {}) => runCli(policy, args, env);

describe('npm run policy', () => {
  it("when started as npm run policy starts it, then it reads JITGATE_POLICY and exits with the tool's code", async () => {
    const [explained, broken] = await Promise.all([
      spawnCli('policy', ['explain', 'grafana'], { JITGATE_POLICY: 'policy.example.yml' }),
      spawnCli('policy', ['check', 'test/fixtures/broken-policy.yml']),
    ]);
    expect(explained.code).toBe(0);
    expect(explained.stdout).toContain('at most 4h');
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain('resources.grafana.maxDuration');
  }, 120_000); // Node and tsx start in processes of their own, slow on a busy machine

  it('when the policy is valid, then check exits 0 and names the resources', async () => {
    const r = await policyCli(['check', 'policy.example.yml']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('grafana, admin-api');
  });

  it('when the policy is invalid or missing, then check exits 1 with every problem and its key path', async () => {
    const r = await policyCli(['check', 'test/fixtures/broken-policy.yml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('resources.grafana.maxDuration');
    expect(r.stderr).toContain('resources.grafana.networks[0]');
    const missing = await policyCli(['check', '/nonexistent.yml']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('JITGATE_POLICY');
  });

  it('when explaining a resource, then it says who requests, who approves and the limits', async () => {
    const r = await policyCli(['explain', 'grafana'], { JITGATE_POLICY: 'policy.example.yml' });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('approved by   <@U0ALICE>, <@U0CAROL>, <!subteam^S0SRE>');
    expect(r.stdout).toContain('at most 4h');
    expect(r.stdout).toContain('/access grafana/viewer 1h <reason>');
    expect(r.stdout).toContain('viewer (GET HEAD on /**); editor (* on /api/**; WebSockets)');
    expect(r.stdout).toContain(
      'websocket     allowed for editor (a role opens them only with websocket: true)',
    );
    expect(r.stdout).toContain('reason        any (required, at most 500 characters)');
    const db = await policyCli(['explain', 'prod-db'], { JITGATE_POLICY: 'policy.example.yml' });
    expect(db.stdout).toContain('reason        must match ^(INC|CHG)-[0-9]+');
    const unknown = await policyCli(['explain', 'kibana'], { JITGATE_POLICY: 'policy.example.yml' });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('Known resources');
  });

  it('when a resource takes browser cookies on the shared origin, then check warns and exits 0, and explain says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jitgate-policy-'));
    const file = join(dir, 'policy.yml');
    writeFileSync(
      file,
      `defaults: { approvalChannel: C0APPROVALS }
resources:
  wiki: { upstream: http://127.0.0.1:3001, match: { pathPrefix: /wiki }, browser: shared-origin, approvers: { users: [U0ALICE] } }
  api: { upstream: http://127.0.0.1:3002, match: { pathPrefix: /api }, approvers: { users: [U0ALICE] } }
`,
    );
    try {
      const r = await policyCli(['check', file]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('valid, 2 resource(s): wiki, api');
      expect(r.stderr).toContain('warning: resources.wiki.browser: shared-origin:');
      expect(r.stderr).toContain('any other shared-origin resource');
      expect(r.stderr).toContain('Give wiki its own host instead');
      expect(r.stderr).not.toContain('resources.api');
      const wiki = await policyCli(['explain', 'wiki', '--file', file]);
      expect(wiki.stdout).toContain(
        "browser       cookies on the authorizer's shared origin (browser: shared-origin)",
      );
      const api = await policyCli(['explain', 'api', '--file', file]);
      expect(api.stdout).toContain('browser       bearer tokens only');
      const example = await policyCli(['check', 'policy.example.yml']);
      expect(example.stderr).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('when a resource accepts WebSockets but none of its roles says websocket: true, then check warns and explain says upgrades are refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jitgate-policy-'));
    const file = join(dir, 'policy.yml');
    writeFileSync(
      file,
      `defaults: { approvalChannel: C0APPROVALS }
resources:
  live: { upstream: http://127.0.0.1:3001, match: { host: live.example.com }, websocket: true, approvers: { users: [U0ALICE] }, roles: { viewer: { methods: [GET] } } }
`,
    );
    try {
      const r = await policyCli(['check', file]);
      expect(r.code).toBe(0);
      expect(r.stderr).toContain(
        'warning: resources.live.websocket: is true, but no role of live may open WebSockets',
      );
      const live = await policyCli(['explain', 'live', '--file', file]);
      expect(live.stdout).toContain(
        "websocket     refused: no role has websocket: true (a role's methods do not imply it)",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('when the usage is wrong, then it exits 2', async () => {
    expect((await policyCli(['lint'])).code).toBe(2);
    expect((await policyCli(['explain'])).code).toBe(2);
  });
});
