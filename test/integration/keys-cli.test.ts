import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { JWK } from 'jose';
import { describe, expect, it } from 'vitest';
import { run as keys } from '../../scripts/keys.js';
import type { Clock } from '../../shared/clock.js';
import {
  createAccessTokenVerifier,
  generateSigningKeySet,
  KEYS_HOW,
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

  it('when generating, then it prints a private set that loads, ES256 by default, with a fresh kid each time', async () => {
    const [a, es] = await Promise.all([keysCli('generate'), keysCli('generate', '--alg', 'EdDSA')]);
    for (const run of [a, es]) expect(run.code).toBe(0);
    const keysA = await loadSigningKeys(a.stdout);
    expect(keysA.signing.alg).toBe('ES256');
    expect((await loadSigningKeys(es.stdout)).signing.alg).toBe('EdDSA');
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
    expect(runs[1]!.stderr).toContain('--alg must be ES256 or EdDSA');
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

const tempDir = () => mkdtempSync(join(tmpdir(), 'jitgate-keys-out-'));
const mode = (path: string) => statSync(path).mode & 0o777;
const fileKids = (path: string) => kids(readFileSync(path, 'utf8'));

describe('npm run keys -- generate --out', () => {
  it('when writing a new file, then it holds only the set, readable by its owner alone, and stdout stays empty', async () => {
    const file = join(tempDir(), 'keys.json');
    const run = await keysCli('generate', '--out', file);
    expect(run).toMatchObject({ code: 0, stdout: '' });
    expect(mode(file)).toBe(0o600);
    expect((await loadSigningKeys(file)).signing.alg).toBe('ES256');
    expect(run.stderr).toContain(`JITGATE_SIGNING_KEYS=${file}`);
    expect(run.stderr).not.toContain((JSON.parse(readFileSync(file, 'utf8')) as { keys: JWK[] }).keys[0]!.d);
  });

  it('when the file exists, then it is left alone without --force, replaced (0600 again) with it', async () => {
    const file = join(tempDir(), 'keys.json');
    await keysCli('generate', '--out', file, '--alg', 'EdDSA');
    const before = readFileSync(file, 'utf8');
    chmodSync(file, 0o644);
    const refused = await keysCli('generate', '--out', file);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('already exists: nothing was written');
    expect(refused.stderr).toContain(`--add ${file} --out ${file}`);
    expect(readFileSync(file, 'utf8')).toBe(before);
    // Another set named with --add does not make overwriting a third file safe.
    const other = join(tempDir(), 'old.json');
    await keysCli('generate', '--out', other);
    expect((await keysCli('generate', '--add', other, '--out', file)).code).toBe(1);
    expect(readFileSync(file, 'utf8')).toBe(before);

    const forced = await keysCli('generate', '--out', file, '--force');
    expect(forced.code).toBe(0);
    expect(readFileSync(file, 'utf8')).not.toBe(before);
    expect(mode(file)).toBe(0o600);
    expect(fileKids(file)).toHaveLength(1);
  });

  it('when rotating in place (--add keys.json --out keys.json), then the new ES256 key comes first and the old EdDSA one stays', async () => {
    const dir = tempDir();
    const file = join(dir, 'keys.json');
    await keysCli('generate', '--out', file, '--alg', 'EdDSA');
    const [oldKid] = fileKids(file);
    const rotated = await keysCli('generate', '--add', file, '--out', file);
    expect(rotated.code).toBe(0);
    expect(rotated.stderr).toContain('1 older key(s) still verify');
    const [newKid, keptKid] = fileKids(file);
    expect(keptKid).toBe(oldKid);
    expect(newKid).not.toBe(oldKid);
    const keys = await loadSigningKeys(file);
    expect(keys.signing.alg).toBe('ES256');
    expect(keys.algorithms.sort()).toEqual(['ES256', 'EdDSA']);
    expect(mode(file)).toBe(0o600);
  });

  it('when --out is misused or cannot be written, then nothing is written and it says why', async () => {
    const runs = await Promise.all([
      keysCli('generate', '--force'),
      keysCli('generate', '--out'),
      keysCli('generate', '--out', '--force'),
    ]);
    for (const run of runs) expect(run).toMatchObject({ code: 2, stdout: '' });
    expect(runs[0]!.stderr).toContain('--force goes with --out');
    expect(runs[1]!.stderr).toContain('--out needs a file name');
    const unwritable = await keysCli('generate', '--out', '/nonexistent/dir/keys.json');
    expect(unwritable).toMatchObject({ code: 1, stdout: '' });
    expect(unwritable.stderr).toContain('could not be written (ENOENT)');
  });
});

const exec = promisify(execFile);
/** `npm <args>` in the repository, as a person types it; stdout redirected to a file when `to` is given. */
async function npm(args: string[], to?: string): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await exec('npm', args, { env: { ...process.env, npm_config_loglevel: 'notice' } });
    if (to) writeFileSync(to, stdout, { mode: 0o600 });
    return { code: 0, stdout };
  } catch (err) {
    return { code: (err as { code: number }).code, stdout: '' };
  }
}

describe('the key commands the README and the errors advise', () => {
  it('when run through npm as written, then each gives a file that loads; the banner-polluted one is named as such', async () => {
    const dir = tempDir();
    // The advice every key error gives, run as written (keys.json moved into a temporary folder).
    const advised = [...KEYS_HOW.matchAll(/`npm run ([^`]+)`/g)].map((m) =>
      m[1]!.replaceAll('keys.json', join(dir, 'advised.json')).split(' '),
    );
    expect(advised).toHaveLength(2); // make, then rotate
    // What the README used to say, run beside: npm's banner lands in the file.
    const [made] = await Promise.all([
      npm(['run', ...advised[0]!]).then(async (first) => [first, await npm(['run', ...advised[1]!])]),
      npm(['run', '-s', 'keys', '--', 'generate'], join(dir, 'silent.json')),
      npm(['run', 'keys', '--', 'generate'], join(dir, 'banner.json')),
    ]);
    for (const run of made) expect(run.code).toBe(0);
    expect(fileKids(join(dir, 'advised.json'))).toHaveLength(2);
    expect((await loadSigningKeys(join(dir, 'silent.json'))).signing.alg).toBe('ES256');
    // The error names the banner, and what to run instead.
    const refused = await loadSigningKeys(join(dir, 'banner.json')).then(
      () => '',
      (err: Error) => err.message,
    );
    expect(refused).toContain("npm's banner");
    expect(refused).toContain('npm run keys -- generate --out keys.json');
  }, 120_000); // four npm + tsx starts, slow on a busy machine
});
