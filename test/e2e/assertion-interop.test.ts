import { createPublicKey } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, type JWK, jwtVerify } from 'jose';
// jsonwebtoken is what @slack/bolt installs (through @slack/oauth); with jwks-rsa it is the most
// common verifier stack in Node. jwks-rsa turns the JWK into a PEM public key, as done here.
import jsonwebtoken from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as keysCli } from '../../scripts/keys.js';
import { systemClock } from '../../shared/clock.js';
import { loadSigningKeys, type SigningKeys, signAccessToken } from '../../shared/tokens/index.js';
import { runCli } from '../support/cli.js';
import { bearer, type Echoed, type Harness, PUBLIC_URL, send, startHarness } from './authorizer-harness.js';

/** A keys file made by the command line, as an operator makes it. */
async function keysFile(...args: string[]): Promise<string> {
  const file = join(mkdtempSync(join(tmpdir(), 'jitgate-interop-')), 'keys.json');
  const made = await runCli(keysCli, ['generate', '--out', file, ...args]);
  if (made.code !== 0) throw new Error(made.stderr);
  return file;
}

/** What an upstream receives: the X-JIT-Assertion of one allowed request. */
async function assertionOf(h: Harness): Promise<string> {
  const { token } = await h.grant('app', 'viewer');
  const res = await send(h.url, '/app/', { headers: bearer(token) });
  expect(res.status).toBe(200);
  return res.json<Echoed>().headers['x-jit-assertion']!;
}

/** The authorizer's published keys, fetched over HTTP as an upstream fetches them. */
async function publishedKeys(h: Harness): Promise<JWK[]> {
  return (await send(h.url, '/_jitgate/jwks.json')).json<{ keys: JWK[] }>().keys;
}

/** jsonwebtoken + a PEM made from the JWK with the token's kid (what jwks-rsa does). */
function verifyWithJsonwebtoken(token: string, jwks: JWK[], algorithms: jsonwebtoken.Algorithm[]) {
  const { kid } = jsonwebtoken.decode(token, { complete: true })!.header;
  const jwk = jwks.find((k) => k.kid === kid)!;
  const pem = createPublicKey({ key: jwk as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
  return jsonwebtoken.verify(token, pem, { algorithms, audience: 'app', issuer: PUBLIC_URL });
}

describe('upstream assertions, verified by the libraries upstreams use', () => {
  describe('when the keys come from npm run keys -- generate (ES256)', () => {
    let h: Harness;
    beforeAll(async () => {
      h = await startHarness({ signingKeys: await loadSigningKeys(await keysFile()) });
    });
    afterAll(async () => h.close());

    it('then jose (remote JWKS) and jsonwebtoken (JWK → PEM, as jwks-rsa does) both verify the assertion', async () => {
      const token = await assertionOf(h);
      expect(jsonwebtoken.decode(token, { complete: true })!.header.alg).toBe('ES256');
      const jwks = createRemoteJWKSet(new URL(`${h.url}/_jitgate/jwks.json`));
      const { payload } = await jwtVerify(token, jwks, { audience: 'app', issuer: PUBLIC_URL });
      expect(payload).toMatchObject({ sub: 'U0ALICE', role: 'viewer' });
      const keys = await publishedKeys(h);
      expect(keys.map((k) => [k.kty, k.crv, k.alg])).toEqual([['EC', 'P-256', 'ES256']]);
      expect(verifyWithJsonwebtoken(token, keys, ['ES256'])).toMatchObject({ sub: 'U0ALICE', aud: 'app' });
    });

    it('then an assertion for another resource, or signed with another key, is refused by jsonwebtoken too', async () => {
      const token = await assertionOf(h);
      const keys = await publishedKeys(h);
      expect(() =>
        jsonwebtoken.verify(
          token,
          createPublicKey({ key: keys[0] as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' }),
          { algorithms: ['ES256'], audience: 'grafana' },
        ),
      ).toThrow(/audience/);
      const stranger = (await loadSigningKeys(await keysFile())).publicJwks().keys;
      expect(() =>
        verifyWithJsonwebtoken(token, [{ ...stranger[0]!, kid: keys[0]!.kid }], ['ES256']),
      ).toThrow(/signature/);
    });
  });

  describe('when an existing keys file is EdDSA (made before ES256 was the default)', () => {
    let h: Harness;
    beforeAll(async () => {
      h = await startHarness({ signingKeys: await loadSigningKeys(await keysFile('--alg', 'EdDSA')) });
    });
    afterAll(async () => h.close());

    it('then it still works: tokens are accepted and jose verifies the assertion; jsonwebtoken cannot (no EdDSA)', async () => {
      const token = await assertionOf(h);
      const jwks = createRemoteJWKSet(new URL(`${h.url}/_jitgate/jwks.json`));
      const { protectedHeader } = await jwtVerify(token, jwks, { audience: 'app', issuer: PUBLIC_URL });
      expect(protectedHeader.alg).toBe('EdDSA');
      // The limit the README states: jsonwebtoken 9 knows no EdDSA; rotate to ES256 for such upstreams.
      const keys = await publishedKeys(h);
      expect(() => verifyWithJsonwebtoken(token, keys, ['EdDSA' as jsonwebtoken.Algorithm])).toThrow(
        /Unknown key type "ed25519"|invalid algorithm/,
      );
    });
  });

  describe('when an EdDSA file is rotated in place to ES256 (--add keys.json --out keys.json)', () => {
    let h: Harness;
    let old: SigningKeys;
    beforeAll(async () => {
      const file = await keysFile('--alg', 'EdDSA');
      old = await loadSigningKeys(file);
      const rotated = await runCli(keysCli, ['generate', '--add', file, '--out', file]);
      expect(rotated.code).toBe(0);
      h = await startHarness({ signingKeys: await loadSigningKeys(file) });
    });
    afterAll(async () => h.close());

    it('then tokens signed with the old EdDSA key still pass, and new assertions are ES256 that jsonwebtoken verifies', async () => {
      const { grantId, expiresAt } = await h.grant('app', 'viewer');
      const oldToken = await signAccessToken(
        old,
        {
          issuer: PUBLIC_URL,
          grantId,
          user: 'U0ALICE',
          email: 'u0alice@example.com',
          resource: 'app',
          role: 'viewer',
          expiresAt,
        },
        systemClock,
      );
      const res = await send(h.url, '/app/', { headers: bearer(oldToken) });
      expect(res.status).toBe(200);
      const assertion = res.json<Echoed>().headers['x-jit-assertion']!;
      const keys = await publishedKeys(h);
      expect(keys.map((k) => k.alg)).toEqual(['ES256', 'EdDSA']);
      expect(verifyWithJsonwebtoken(assertion, keys, ['ES256'])).toMatchObject({ sub: 'U0ALICE' });
    });
  });
});
