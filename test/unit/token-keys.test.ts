import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JitgateError } from '../../shared/errors.js';
import { generateSigningKeySet, loadSigningKeys } from '../../shared/tokens/index.js';

async function problem(value: string): Promise<string> {
  try {
    await loadSigningKeys(value);
  } catch (err) {
    if (err instanceof JitgateError && err.code === 'keys_invalid') return err.message;
    throw err;
  }
  throw new Error('expected keys_invalid');
}

describe('loadSigningKeys', () => {
  it('when given JSON or a file path, then the first key signs and the public set has no private parts', async () => {
    const set = await generateSigningKeySet('ES256');
    const dir = mkdtempSync(join(tmpdir(), 'jitgate-keys-'));
    writeFileSync(join(dir, 'keys.json'), JSON.stringify(set));
    for (const value of [JSON.stringify(set), join(dir, 'keys.json')]) {
      const keys = await loadSigningKeys(value);
      expect(keys.signing).toMatchObject({ kid: set.keys[0]!.kid, alg: 'ES256' });
      expect(JSON.stringify(keys.publicJwks())).not.toContain('"d"');
    }
  });

  it.each([
    ['bad JSON', '{nope', 'not valid JSON'],
    ['an empty set', '{"keys": []}', 'empty'],
    ['a missing file', '/nonexistent/keys.json', 'neither'],
  ])('when given %s, then it is refused with a fix', async (_what, value, text) => {
    const message = await problem(value);
    expect(message).toContain(text);
    expect(message).toContain('npm run keys -- generate');
  });

  it('when a key is wrong, then the message says which and never shows its private part', async () => {
    const good = (await generateSigningKeySet()).keys[0]!;
    const cases: [Record<string, unknown>[], string][] = [
      [[{ ...good, kid: undefined }], 'kid'],
      [[good, { ...good }], 'twice'],
      [[{ ...good, d: undefined }], 'private part'],
      [[{ kty: 'RSA', n: 'x', e: 'AQAB', d: 'secret-d', kid: 'r' }], 'RSA'],
      [[{ ...good, alg: 'ES256' }], 'does not match'],
    ];
    for (const [keys, text] of cases) {
      const message = await problem(JSON.stringify({ keys }));
      expect(message).toContain(text);
      expect(message).not.toContain(String(good.d));
      expect(message).not.toContain('secret-d');
    }
  });
});
