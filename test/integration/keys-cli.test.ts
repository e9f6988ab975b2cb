import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { run as keys } from '../../scripts/keys.js';
import type { Clock } from '../../shared/clock.js';
import {
  createAccessTokenVerifier,
  generateSigningKeySet,
  loadSigningKeys,
  signAccessToken,
} from '../../shared/tokens/index.js';
import { runCli, spawnCli } from '../support/cli.js';

/** `npm run keys -- <args>`, run in this process: what it printed and its exit code. */
const keysCli = (...args: string[]) => runCli(keys, args);
const kids = (stdout: string) => (JSON.parse(stdout) as { keys: JWK[] }).keys.map((k) => k.kid);

describe('npm run keys', () => {
  it('when started as npm run keys starts it, then it prints a set that loads and exits 0', async () => {
    const started = await spawnCli('keys', ['generate', '--alg', 'ES256']);
    expect(started.code).toBe(0);
    expect((await loadSigningKeys(started.stdout)).signing.alg).toBe('ES256');
    expect(started.stderr).toContain('Keep this secret');
  }, 120_000); // Node and tsx start in a process of their own, slow on a busy machine

  it('when generating, then it prints a private set that loads, EdDSA by default, with a fresh kid each time', async () => {
    const [a, es] = await Promise.all([keysCli('generate'), keysCli('generate', '--alg', 'ES256')]);
    for (const run of [a, es]) expect(run.code).toBe(0);
    const keysA = await loadSigningKeys(a.stdout);
    expect(keysA.signing.alg).toBe('EdDSA');
    expect((await loadSigningKeys(es.stdout)).signing.alg).toBe('ES256');
    expect(kids(a.stdout)).toHaveLength(1);
    expect(kids(a.stdout)[0]).not.toBe(kids(es.stdout)[0]);
    expect(a.stderr).toContain('Keep this secret');
    expect(a.stderr).not.toContain(JSON.parse(a.stdout).keys[0].d);
  });

  it('when adding to an existing set (JSON or file), then the new key comes first and old tokens still verify', async () => {
    const old = JSON.stringify(await generateSigningKeySet());
    const dir = mkdtempSync(join(tmpdir(), 'jitgate-keys-cli-'));
    writeFileSync(join(dir, 'keys.json'), old);
    const [fromJson, fromFile] = await Promise.all([
      keysCli('generate', '--add', old, '--alg', 'ES256'),
      keysCli('generate', '--add', join(dir, 'keys.json')),
    ]);
    for (const run of [fromJson, fromFile]) {
      expect(run.code).toBe(0);
      expect(kids(run.stdout)).toHaveLength(2);
      expect(kids(run.stdout)[1]).toBe(kids(old)[0]);
    }
    const clock: Clock = { now: () => Date.now() };
    const claims = {
      issuer: 'https://access.example.com',
      grantId: `g_${'c'.repeat(26)}`,
      user: 'U0ALICE',
      email: 'alice@example.com',
      resource: 'grafana',
      role: 'viewer',
      expiresAt: Date.now() + 60_000,
    };
    const rotated = await loadSigningKeys(fromJson.stdout);
    expect(rotated.signing).toMatchObject({ kid: kids(fromJson.stdout)[0], alg: 'ES256' });
    const verifier = createAccessTokenVerifier({ keys: rotated, issuer: claims.issuer, clock });
    const oldToken = await signAccessToken(await loadSigningKeys(old), claims, clock);
    expect((await verifier.verify(oldToken, 'grafana')).sub).toBe('U0ALICE');
  });

  it('when the usage is wrong, then it exits 2 with the usage on stderr and prints no key', async () => {
    const runs = await Promise.all([
      keysCli('make'),
      keysCli('generate', '--alg', 'RS256'),
      keysCli('--help'),
    ]);
    const help = runs.pop()!;
    for (const run of runs) {
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('usage: npm run keys -- generate');
      expect(run.stdout).toBe('');
    }
    expect(runs[0]!.stderr).toContain('unknown command "make"');
    expect(runs[1]!.stderr).toContain('--alg must be EdDSA or ES256');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('usage: npm run keys');
  });

  it('when the existing set is invalid, then it exits 1 with why, without echoing key material', async () => {
    const old = await generateSigningKeySet();
    const twice = JSON.stringify({ keys: [old.keys[0], old.keys[0]] });
    const [duplicate, missing] = await Promise.all([
      keysCli('generate', '--add', twice),
      keysCli('generate', '--add', '/nonexistent/keys.json'),
    ]);
    for (const run of [duplicate, missing]) {
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain('npm run keys -- generate');
    }
    expect(duplicate.stderr).toContain('twice');
    expect(duplicate.stderr).not.toContain(old.keys[0]!.d);
    expect(missing.stderr).toContain('neither');
  });
});
