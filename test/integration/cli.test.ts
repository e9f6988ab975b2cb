import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const exec = promisify(execFile);

async function cli(script: string, args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await exec(
      process.execPath,
      ['--import', 'tsx', `scripts/${script}.ts`, ...args],
      {
        env: { ...process.env, ...env },
      },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('npm run policy', () => {
  it('when the policy is valid, then check exits 0 and names the resources', async () => {
    const r = await cli('policy', ['check', 'policy.example.yml']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('grafana, admin-api');
  });

  it('when the policy is invalid or missing, then check exits 1 with every problem and its key path', async () => {
    const r = await cli('policy', ['check', 'test/fixtures/broken-policy.yml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('resources.grafana.maxDuration');
    expect(r.stderr).toContain('resources.grafana.networks[0]');
    const missing = await cli('policy', ['check', '/nonexistent.yml']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('JITGATE_POLICY');
  });

  it('when explaining a resource, then it says who requests, who approves and the limits', async () => {
    const r = await cli('policy', ['explain', 'grafana'], { JITGATE_POLICY: 'policy.example.yml' });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('approved by   <@U0ALICE>, <@U0CAROL>, <!subteam^S0SRE>');
    expect(r.stdout).toContain('at most 4h');
    expect(r.stdout).toContain('/access grafana/viewer 1h <reason>');
    const unknown = await cli('policy', ['explain', 'kibana'], { JITGATE_POLICY: 'policy.example.yml' });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('Known resources');
  });

  it('when the usage is wrong, then it exits 2', async () => {
    expect((await cli('policy', ['lint'])).code).toBe(2);
    expect((await cli('policy', ['explain'])).code).toBe(2);
  });
});
