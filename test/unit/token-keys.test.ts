import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, exportJWK, generateKeyPair, type JWK } from 'jose';
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

const set = (...keys: unknown[]) => JSON.stringify({ keys });

describe('loadSigningKeys', () => {
  it('when given JSON or a file path, then the first key signs and every key verifies', async () => {
    const first = await generateSigningKeySet('ES256');
    const second = await generateSigningKeySet('EdDSA');
    const value = set(...first.keys, ...second.keys);
    const dir = mkdtempSync(join(tmpdir(), 'jitgate-keys-'));
    writeFileSync(join(dir, 'keys.json'), value);
    for (const input of [value, `\n  ${value}\n`, join(dir, 'keys.json')]) {
      const keys = await loadSigningKeys(input);
      expect(keys.signing).toMatchObject({ kid: first.keys[0]!.kid, alg: 'ES256' });
      expect(keys.algorithms.sort()).toEqual(['ES256', 'EdDSA']);
      expect(keys.verificationJwks.keys.map((k) => k.kid)).toEqual([first.keys[0]!.kid, second.keys[0]!.kid]);
      const lookup = createLocalJWKSet(keys.verificationJwks);
      await expect(
        lookup({ alg: 'EdDSA', kid: second.keys[0]!.kid }, undefined as never),
      ).resolves.toBeTruthy();
    }
  });

  it('when the public set is asked for, then it has the public parts only, as a fresh copy', async () => {
    const generated = (await generateSigningKeySet('ES256')).keys[0]!;
    const keys = await loadSigningKeys(set({ ...generated, ext: true, key_ops: ['sign'] }));
    const jwks = keys.publicJwks();
    expect(jwks.keys).toEqual([
      {
        kty: 'EC',
        crv: 'P-256',
        x: generated.x,
        y: generated.y,
        kid: generated.kid,
        alg: 'ES256',
        use: 'sig',
      },
    ]);
    expect(JSON.stringify(jwks)).not.toContain('"d"');
    jwks.keys[0]!.kid = 'changed';
    expect(keys.publicJwks().keys[0]!.kid).toBe(generated.kid);
  });

  it.each([
    ['bad JSON', '{nope', 'not valid JSON'],
    ['a JSON value that is not a set', '{"kty": "OKP"}', 'no "keys" array'],
    ['an empty set', '{"keys": []}', 'empty'],
    ['a missing file', '/nonexistent/keys.json', 'neither'],
  ])('when given %s, then it is refused with how to fix it', async (_what, value, text) => {
    const message = await problem(value);
    expect(message).toContain(text);
    expect(message).toContain('npm run keys -- generate');
  });

  it('when a key is wrong, then the message says which and what, and never shows a private part', async () => {
    const ed = (await generateSigningKeySet('EdDSA')).keys[0]!;
    const ec = (await generateSigningKeySet('ES256')).keys[0]!;
    const p384 = await exportJWK((await generateKeyPair('ES384', { extractable: true })).privateKey);
    const cases: [JWK[], string][] = [
      [[{ ...ed, kid: undefined }], 'key 0 has no kid'],
      [[{ ...ed, kid: '' }], 'empty kid'],
      [[ed, { ...ec, kid: ed.kid }], `kid "${ed.kid}" twice`],
      [[ec, { ...ed, d: undefined }], `key 1 "${ed.kid}" is a public key`],
      [[{ kty: 'RSA', n: 'x', e: 'AQAB', d: 'secret-d', kid: 'r' }], 'RSA'],
      [[{ kty: 'oct', k: 'secret-d', kid: 'h' }], 'not OKP'],
      [[{ ...ed, alg: 'ES256' }], 'alg ES256, which does not match Ed25519'],
      [[{ ...ec, alg: 'EdDSA' }], 'alg EdDSA, which does not match P-256'],
      [[{ ...ec, alg: 'RS256' }], 'does not match'],
      [[{ ...p384, kid: 'p384' }], 'not on curve P-256'],
      [[{ ...ec, y: undefined }], 'without y'],
      [[{ ...ed, use: 'enc' }], 'use other than "sig"'],
      [[{ ...ed, d: ec.d }], 'do not form a valid key pair'],
      [[{ ...ec, x: ed.x }], 'do not form a valid key pair'],
    ];
    for (const [keys, text] of cases) {
      const message = await problem(set(...keys));
      expect(message).toContain(text);
      for (const secret of [ed.d!, ec.d!, p384.d!, 'secret-d']) expect(message).not.toContain(secret);
    }
  });

  it('when the value is neither JSON nor a path, then it is not echoed back', async () => {
    const { d } = (await generateSigningKeySet()).keys[0]!;
    const message = await problem(`[{"kty":"OKP","crv":"Ed25519","d":"${d}"}]`);
    expect(message).toContain('neither');
    expect(message).not.toContain(d!);
    expect(await problem(`{"keys": [{"d": "${d}", `)).not.toContain(d!);
  });
});

describe('generateSigningKeySet', () => {
  it('when called twice, then each set has one private key with its own dated kid', async () => {
    const [a, b] = await Promise.all([generateSigningKeySet(), generateSigningKeySet('ES256')]);
    expect(a.keys).toHaveLength(1);
    expect(a.keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
    expect(b.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(a.keys[0]!.d).toBeTruthy();
    expect(a.keys[0]!.kid).toMatch(/^\d{4}-\d{2}-\d{2}-[0-9a-f]{12}$/);
    expect(a.keys[0]!.kid).not.toBe(b.keys[0]!.kid);
  });
});
