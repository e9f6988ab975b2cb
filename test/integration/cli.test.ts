import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadSigningKeys } from '../../shared/tokens/index.js';

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

describe('npm run keys', () => {
  it('when generating, then it prints a private set that loads, with a fresh kid each time', async () => {
    const a = await cli('keys', ['generate']);
    const b = await cli('keys', ['generate', '--alg', 'ES256']);
    expect(a.code).toBe(0);
    const keysA = await loadSigningKeys(a.stdout);
    const keysB = await loadSigningKeys(b.stdout);
    expect(keysA.signing.alg).toBe('EdDSA');
    expect(keysB.signing.alg).toBe('ES256');
    expect(keysA.signing.kid).not.toBe(keysB.signing.kid);
  });

  it('when adding to an existing set, then the new key comes first and the old one stays', async () => {
    const old = (await cli('keys', ['generate'])).stdout.trim();
    const rotated = await cli('keys', ['generate', '--add', old]);
    expect(rotated.code).toBe(0);
    const set = JSON.parse(rotated.stdout) as { keys: { kid: string }[] };
    expect(set.keys).toHaveLength(2);
    expect(set.keys[1]!.kid).toBe(JSON.parse(old).keys[0].kid);
  });

  it('when the usage is wrong or the set is invalid, then it exits 2 or 1 with why', async () => {
    const bad = await cli('keys', ['make']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('usage: npm run keys');
    const invalid = await cli('keys', ['generate', '--add', '{"keys": []}']);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('empty');
  });
});

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
