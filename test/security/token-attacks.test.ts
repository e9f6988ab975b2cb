import { createHmac, createPublicKey } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { base64url, type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { GrantId, SlackUserId } from '../../shared/ids.js';
import { ACCESS_TOKEN_TYPE } from '../../shared/tokens/access-token.js';
import { verifyAssertion } from '../../shared/tokens/index.js';
import {
  ALICE,
  BOB,
  bearer,
  type Echoed,
  type Harness,
  PUBLIC_URL,
  send,
  startHarness,
} from '../e2e/authorizer-harness.js';
import { countFigures } from './figures.js';

/**
 * Tokens against the running authorizer (RFC 8725 and the history of JWT library CVEs): every forged,
 * altered or malformed token is refused with 401/403 and the upstream never sees the request. The
 * verifier's own unit tests (test/unit/tokens.test.ts) cover many of these below the HTTP layer;
 * here they go through the whole request path, including the live-grant check in Redis.
 */
countFigures('attack');

let h: Harness;
/** A grant of ALICE on app/viewer, and its honest token. */
let grant: { grantId: GrantId; expiresAt: number; token: string };
/** Our public key, as the JWKS endpoint serves it. */
let ours: JWK;
/** A stranger's Ed25519 key pair. */
let stranger: { privateKey: CryptoKey; publicJwk: JWK };
/** Where a token's jku/x5u would send the authorizer: it must never be asked. */
let keyServer: Server;
let keyServerUrl: string;
let keyServerHits = 0;

beforeAll(async () => {
  h = await startHarness();
  grant = await h.grant('app', 'viewer');
  ours = (h.keys.publicJwks().keys[0] as JWK)!;
  const pair = await generateKeyPair('EdDSA', { extractable: true });
  stranger = { privateKey: pair.privateKey, publicJwk: await exportJWK(pair.publicKey) };
  keyServer = createServer((_req, res) => {
    keyServerHits += 1;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [{ ...stranger.publicJwk, kid: ours.kid }] }));
  });
  await new Promise<void>((resolve) => keyServer.listen(0, '127.0.0.1', () => resolve()));
  keyServerUrl = `http://127.0.0.1:${(keyServer.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await h?.close();
  await new Promise<void>((resolve) => (keyServer ? keyServer.close(() => resolve()) : resolve()));
});

// After every case: the authorizer is up and the honest token still passes.
afterEach(async () => {
  expect((await send(h.url, '/_jitgate/healthz')).status).toBe(200);
  expect((await send(h.url, '/app/ok', { headers: bearer(grant.token) })).status).toBe(200);
});

const nowSec = () => Math.floor(Date.now() / 1000);
const b64 = (v: unknown) => base64url.encode(typeof v === 'string' ? v : JSON.stringify(v));

/** The honest claims of `grant`, for altering one at a time. */
function claims(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    iss: PUBLIC_URL,
    sub: ALICE,
    aud: 'app',
    gid: grant.grantId,
    role: 'viewer',
    email: 'u0alice@example.com',
    iat: nowSec(),
    nbf: nowSec(),
    exp: Math.floor(grant.expiresAt / 1000),
    ...over,
  };
}

/** Signed with OUR private key: what only jitgate (or whoever stole its key) can make. */
async function signedByUs(payload: Record<string, unknown>, header: Record<string, unknown> = {}) {
  return new SignJWT(payload)
    .setProtectedHeader({
      alg: h.keys.signing.alg,
      kid: h.keys.signing.kid,
      typ: ACCESS_TOKEN_TYPE,
      ...header,
    } as never)
    .sign(h.keys.signing.key);
}

async function signedByStranger(payload: Record<string, unknown>, header: Record<string, unknown>) {
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'EdDSA', typ: ACCESS_TOKEN_TYPE, ...header } as never)
    .sign(stranger.privateKey);
}

/** A compact JWS with any header and an HMAC (or no) signature, as an attacker assembles it. */
function assemble(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  hmacKey?: Buffer | string,
) {
  const input = `${b64(header)}.${b64(payload)}`;
  if (hmacKey === undefined) return `${input}.`;
  const alg = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }[String(header.alg)] ?? 'sha256';
  return `${input}.${createHmac(alg, hmacKey).update(input).digest('base64url')}`;
}

/** Sends the token to app and answers the refusal; asserts the upstream saw nothing. */
async function refusedWith(token: string, path = '/app/x', headers: Record<string, string> = {}) {
  const before = h.echo.requests.length;
  const res = await send(h.url, path, { headers: { ...bearer(token), ...headers } });
  expect(h.echo.requests.length, 'the upstream must not be reached').toBe(before);
  return { status: res.status, error: (res.json() as { error?: string }).error };
}

describe('Unsigned tokens: alg none in any casing', () => {
  it.each([
    ['none', 'with our kid', { alg: 'none', kid: '' }, ''],
    ['None', 'with our kid', { alg: 'None' }, ''],
    ['NONE', 'with our kid', { alg: 'NONE' }, ''],
    ['nOnE', 'with our kid', { alg: 'nOnE' }, ''],
    ['none', 'and no kid', { alg: 'none', kid: undefined }, ''],
    ['none', 'with a leftover signature', { alg: 'none' }, 'sig'],
  ])('when the token says alg %s %s, then 401', async (_alg, _how, header, sig) => {
    const h0 = { typ: ACCESS_TOKEN_TYPE, kid: ours.kid, ...header };
    const token = `${assemble(h0, claims())}${sig === 'sig' ? grant.token.split('.')[2] : ''}`;
    expect(await refusedWith(token)).toMatchObject({ status: 401, error: 'token_invalid' });
  });

  it('when the honest token has its signature removed, then 401', async () => {
    const [head, body] = grant.token.split('.');
    expect(await refusedWith(`${head}.${body}.`)).toMatchObject({ status: 401, error: 'token_invalid' });
  });
});

describe('Algorithm confusion: HMAC keyed with our public key', () => {
  const encodings: [string, () => Buffer | string][] = [
    ['the JWK as JSON', () => JSON.stringify(ours)],
    ['the JWKS document', () => JSON.stringify(h.keys.publicJwks())],
    ['the raw public key bytes', () => Buffer.from(String(ours.x), 'base64url')],
    ['the base64url x string', () => String(ours.x)],
    [
      'the SPKI PEM',
      () =>
        createPublicKey({ key: ours as never, format: 'jwk' }).export({
          type: 'spki',
          format: 'pem',
        }) as string,
    ],
    [
      'the SPKI PEM without its final newline',
      () =>
        (
          createPublicKey({ key: ours as never, format: 'jwk' }).export({
            type: 'spki',
            format: 'pem',
          }) as string
        ).trimEnd(),
    ],
    [
      'the SPKI DER',
      () => createPublicKey({ key: ours as never, format: 'jwk' }).export({ type: 'spki', format: 'der' }),
    ],
  ];
  const cases = encodings.flatMap(([what, key]) =>
    ['HS256', 'HS384', 'HS512'].map((alg) => [alg, what, key] as const),
  );
  it.each(cases)('when the token is %s keyed with %s under our kid, then 401', async (alg, _what, key) => {
    const token = assemble({ alg, kid: ours.kid, typ: ACCESS_TOKEN_TYPE }, claims(), key());
    expect(await refusedWith(token)).toMatchObject({ status: 401, error: 'token_invalid' });
  });

  it('when the token is ES256 under our EdDSA kid, then 401', async () => {
    const pair = await generateKeyPair('ES256');
    const token = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'ES256', kid: String(ours.kid), typ: ACCESS_TOKEN_TYPE })
      .sign(pair.privateKey);
    expect(await refusedWith(token)).toMatchObject({ status: 401, error: 'token_invalid' });
  });
});

describe('A stranger’s key', () => {
  it.each([
    ['under our kid', () => ({ kid: ours.kid })],
    ['under an unknown kid', () => ({ kid: 'stranger-1' })],
    ['under no kid', () => ({})],
    ['under an empty kid', () => ({ kid: '' })],
    ['under a kid that is a path', () => ({ kid: '../../../../dev/null' })],
    ['under a kid that is a query', () => ({ kid: "' OR '1'='1" })],
    ['under our kid with a space after it', () => ({ kid: `${ours.kid} ` })],
  ])('when a token is signed by a stranger %s, then 401', async (_what, header) => {
    const token = await signedByStranger(claims(), header());
    expect(await refusedWith(token)).toMatchObject({ status: 401, error: 'token_invalid' });
  });
});

describe('Keys and key URLs carried in the header, and crit', () => {
  it.each([
    ['jwk (the stranger’s public key embedded)', () => ({ kid: ours.kid, jwk: stranger.publicJwk })],
    ['jku (a key set URL we serve)', () => ({ kid: ours.kid, jku: `${keyServerUrl}/jwks.json` })],
    ['x5u (a certificate URL we serve)', () => ({ kid: ours.kid, x5u: `${keyServerUrl}/cert.pem` })],
    ['x5c (an embedded chain)', () => ({ kid: ours.kid, x5c: ['MIIBszCCAVmgAwIBAgIU'] })],
    ['x5t (a thumbprint)', () => ({ kid: ours.kid, x5t: 'dGh1bWI' })],
  ])('when a stranger’s token carries %s, then 401 and the URL is never fetched', async (_what, header) => {
    keyServerHits = 0;
    const token = await signedByStranger(claims(), header());
    expect(await refusedWith(token)).toMatchObject({ status: 401, error: 'token_invalid' });
    expect(keyServerHits).toBe(0);
  });

  it.each([
    ['jku', () => ({ jku: `${keyServerUrl}/jwks.json` })],
    ['jwk', () => ({ jwk: { kty: 'OKP', crv: 'Ed25519', x: ours.x } })],
    ['crit naming exp', () => ({ crit: ['exp'] })],
    ['crit naming an unknown extension', () => ({ crit: ['jitgate-admin'], 'jitgate-admin': true })],
    ['crit b64 (unencoded payload)', () => ({ crit: ['b64'], b64: true })],
  ])('when a token signed with OUR key carries %s, then it is still refused', async (_what, header) => {
    keyServerHits = 0;
    const token = await signedByUs(claims(), header()).catch(() =>
      // jose itself refuses to sign some of these; assemble the header by hand then.
      signAssembled(header()),
    );
    expect(await refusedWith(token)).toMatchObject({ status: 401, error: 'token_invalid' });
    expect(keyServerHits).toBe(0);
  });
});

/** Our signature over a header jose would not produce. */
async function signAssembled(extra: Record<string, unknown>): Promise<string> {
  const header = { alg: h.keys.signing.alg, kid: h.keys.signing.kid, typ: ACCESS_TOKEN_TYPE, ...extra };
  const input = `${b64(header)}.${b64(claims())}`;
  const sig = await crypto.subtle.sign(
    h.keys.signing.alg === 'EdDSA' ? { name: 'Ed25519' } : { name: 'ECDSA', hash: 'SHA-256' },
    h.keys.signing.key,
    new TextEncoder().encode(input),
  );
  return `${input}.${Buffer.from(sig).toString('base64url')}`;
}

describe('Every binding claim altered and re-signed with OUR key still fails against the live grant', () => {
  it('when sub names another user (BOB) for ALICE’s grant, then 401', async () => {
    const token = await signedByUs(claims({ sub: BOB }));
    expect(await refusedWith(token)).toMatchObject({ status: 401, error: 'token_invalid' });
  });

  it('when aud names another resource and the request goes there, then it is refused', async () => {
    const token = await signedByUs(claims({ aud: 'other' }));
    expect((await refusedWith(token, '/other/x')).status).toBeGreaterThanOrEqual(401);
  });

  it('when aud names another resource and the request goes to the grant’s resource, then 403 wrong_resource', async () => {
    const token = await signedByUs(claims({ aud: 'other' }));
    expect(await refusedWith(token, '/app/x')).toMatchObject({ status: 403, error: 'wrong_resource' });
  });

  it('when aud is a list holding both resources, then 401', async () => {
    const token = await signedByUs(claims({ aud: ['app', 'other'] }));
    expect((await refusedWith(token, '/app/x')).status).toBeGreaterThanOrEqual(401);
    expect((await refusedWith(token, '/other/x')).status).toBeGreaterThanOrEqual(401);
  });

  it('when role is raised from viewer to editor, then 401 (and the editor-only method stays refused)', async () => {
    const token = await signedByUs(claims({ role: 'editor' }));
    const before = h.echo.requests.length;
    const res = await send(h.url, '/app/api/x', { method: 'POST', headers: bearer(token), body: '{}' });
    expect(res.status).toBe(401);
    expect(h.echo.requests.length).toBe(before);
  });

  it('when gid names another user’s grant, then 401', async () => {
    const bobs = await h.grant('app', 'editor', { user: BOB });
    const token = await signedByUs(claims({ gid: bobs.grantId, role: 'editor' }));
    expect(await refusedWith(token, '/app/api/x')).toMatchObject({ status: 401, error: 'token_invalid' });
  });

  it('when gid names the same user’s grant on another resource, then it is refused', async () => {
    const other = await h.grant('other');
    const token = await signedByUs(claims({ gid: other.grantId }));
    expect((await refusedWith(token, '/app/x')).status).toBeGreaterThanOrEqual(401);
  });

  it('when gid names a grant that does not exist, then 401', async () => {
    const token = await signedByUs(claims({ gid: `g_${'z'.repeat(26)}` }));
    expect((await refusedWith(token)).status).toBe(401);
  });

  it('when gid names a revoked grant, then 401 grant_revoked', async () => {
    const revoked = await h.grant('app', 'viewer');
    await h.store.transitions.revoke(revoked.grantId, 'U0BOSS' as SlackUserId, 'test');
    const token = await signedByUs(claims({ gid: revoked.grantId }));
    expect(await refusedWith(token)).toMatchObject({ status: 401, error: 'grant_revoked' });
  });

  it('when iss names another issuer, then 401', async () => {
    for (const iss of ['https://evil.example', `${PUBLIC_URL}/`, PUBLIC_URL.toUpperCase(), '']) {
      const token = await signedByUs(claims({ iss }));
      expect(await refusedWith(token)).toMatchObject({ status: 401, error: 'token_invalid' });
    }
  });

  it('when email is changed to someone else’s, then it is refused (upstreams log people in by it)', async () => {
    const token = await signedByUs(claims({ email: 'ceo@example.com' }));
    expect(await refusedWith(token)).toMatchObject({ status: 401, error: 'token_invalid' });
  });

  it('when exp is pushed past the grant’s end, then the token dies with its grant anyway', async () => {
    const short = await h.grant('app', 'viewer', { durationMs: 1_000 });
    const token = await signedByUs(claims({ gid: short.grantId, exp: nowSec() + 3600 }));
    await new Promise((r) => setTimeout(r, 1_200));
    expect((await refusedWith(token)).status).toBe(401);
  });

  it('when typ is dropped or says plain JWT, then 401', async () => {
    expect(await refusedWith(await signedByUs(claims(), { typ: 'JWT' }))).toMatchObject({ status: 401 });
    expect(await refusedWith(await signedByUs(claims(), { typ: undefined }))).toMatchObject({ status: 401 });
  });

  it.each(['sub', 'aud', 'gid', 'role', 'email', 'exp', 'nbf', 'iat', 'iss'])(
    'when the %s claim is missing, then it is refused',
    async (name) => {
      const payload = claims();
      delete payload[name];
      // A missing audience reads as "not for this resource" (403); the rest are invalid tokens (401).
      expect([401, 403]).toContain((await refusedWith(await signedByUs(payload))).status);
    },
  );
});

describe('Time', () => {
  it('when the token expired a minute ago (the grant still live), then 401 token_expired', async () => {
    const token = await signedByUs(claims({ iat: nowSec() - 120, nbf: nowSec() - 120, exp: nowSec() - 60 }));
    expect(await refusedWith(token)).toMatchObject({ status: 401, error: 'token_expired' });
  });

  it('when the token is not valid for another minute, then 401', async () => {
    const token = await signedByUs(claims({ nbf: nowSec() + 60 }));
    expect(await refusedWith(token)).toMatchObject({ status: 401, error: 'token_invalid' });
  });

  it.each([
    ['a word', 'never'],
    ['null', null],
    ['a numeric string', String(nowSec() + 3600)],
  ])('when exp is %s instead of a number, then 401', async (_what, exp) => {
    expect((await refusedWith(await signedByUs(claims({ exp })))).status).toBe(401);
  });
});

describe('Malformed, truncated, extra segments, oversized', () => {
  const t = () => grant.token;
  it.each([
    ['an empty bearer', () => ''],
    ['only dots', () => '..'],
    ['two segments', () => t().split('.').slice(0, 2).join('.')],
    ['four segments', () => `${t()}.${t().split('.')[2]}`],
    ['five segments (JWE shape)', () => `${t()}.AAAA.BBBB`],
    ['the signature cut by one character', () => t().slice(0, -1)],
    ['the signature cut in half', () => t().slice(0, t().length - 40)],
    [
      'one character changed in the signature',
      () => `${t().slice(0, -2)}${t().at(-2) === 'A' ? 'B' : 'A'}${t().at(-1)}`,
    ],
    [
      'one character changed in the payload',
      () => {
        const [a, b, c] = t().split('.');
        return `${a}.${b!.slice(0, 10)}${b![10] === 'A' ? 'B' : 'A'}${b!.slice(11)}.${c}`;
      },
    ],
    ['base64 padding added', () => `${t()}==`],
    ['a space inside', () => `${t().slice(0, 20)} ${t().slice(20)}`],
    ['a header that is not JSON', () => `${b64('{alg:EdDSA')}.${t().split('.')[1]}.${t().split('.')[2]}`],
    ['a header that is a JSON array', () => `${b64([1])}.${t().split('.')[1]}.${t().split('.')[2]}`],
    ['a payload that is not JSON', () => `${t().split('.')[0]}.${b64('not json')}.${t().split('.')[2]}`],
    [
      'the payload of another token under this signature',
      () => `${t().split('.')[0]}.${b64(claims({ role: 'editor' }))}.${t().split('.')[2]}`,
    ],
    ['a token of 9 KB', () => `${t()}${'A'.repeat(9 * 1024)}`],
    [
      'a header of 9 KB',
      () =>
        `${b64({ alg: 'EdDSA', kid: ours.kid, pad: 'x'.repeat(9 * 1024) })}.${t().split('.')[1]}.${t().split('.')[2]}`,
    ],
    ['non-ASCII characters', () => `${t().slice(0, 30)}é${t().slice(31)}`],
  ])('when the bearer is %s, then 401', async (_what, token) => {
    expect((await refusedWith(token())).status).toBe(401);
  });

  it('when the bearer is standard base64 characters, then 401', async () => {
    // Standard base64 differs from base64url only where base64url has '-' or '_', and a token need
    // not have either: sign honest tokens (a second apart in iat) until one does, so that the
    // rewrite really changes it.
    let honest = grant.token;
    for (let ago = 1; !/[-_]/.test(honest); ago += 1)
      honest = await signedByUs(claims({ iat: nowSec() - ago }));
    expect((await send(h.url, '/app/ok', { headers: bearer(honest) })).status).toBe(200);
    expect((await refusedWith(honest.replace(/-/g, '+').replace(/_/g, '/'))).status).toBe(401);
  });

  it('when the Authorization header is 60 KB, then it is refused and the server stays up', async () => {
    const res = await send(h.url, '/app/x', {
      headers: { authorization: `Bearer ${'A'.repeat(60_000)}` },
    }).catch(() => ({ status: 431 }));
    expect([400, 401, 431]).toContain(res.status);
  });

  it.each([
    [
      'Basic with the token as credentials',
      (tk: string) => `Basic ${Buffer.from(`x:${tk}`).toString('base64')}`,
    ],
    ['a scheme other than Bearer', (tk: string) => `Token ${tk}`],
    ['two bearer tokens, a forged one first', (tk: string) => `Bearer ${tk.slice(0, -1)}A, Bearer ${tk}`],
    ['Bearer with no space', (tk: string) => `Bearer${tk}`],
  ])('when the Authorization header is %s, then the request is not let through', async (_what, make) => {
    const before = h.echo.requests.length;
    const res = await send(h.url, '/app/x', { headers: { authorization: make(grant.token) } });
    expect(res.status).toBe(401);
    expect(h.echo.requests.length).toBe(before);
  });
});

describe('Tokens in the wrong place', () => {
  it.each([
    ['?token=', (tk: string) => `/app/x?token=${tk}`],
    ['?access_token=', (tk: string) => `/app/x?access_token=${tk}`],
    ['?jwt=', (tk: string) => `/app/x?jwt=${tk}`],
    ['?Access_Token= (mixed case)', (tk: string) => `/app/x?Access_Token=${tk}`],
    ['?%61ccess_token= (encoded name)', (tk: string) => `/app/x?%61ccess_token=${tk}`],
    ['after a ; separator', (tk: string) => `/app/x?a=1;token=${tk}`],
    ['as the second of two parameters', (tk: string) => `/app/x?q=1&token=${tk}`],
    ['with an encoded = in the name', (tk: string) => `/app/x?access%5Ftoken=${tk}`],
  ])(
    'when the token comes in the query string as %s (and nowhere else), then it is refused',
    async (_what, path) => {
      const before = h.echo.requests.length;
      const res = await send(h.url, path(grant.token));
      expect(res.status).toBe(401);
      expect(h.echo.requests.length).toBe(before);
    },
  );

  it('when the token comes in a cookie named for another resource, then it is not used for this one', async () => {
    const res = await send(h.url, '/app/x', { headers: { cookie: `jitgate_other=${grant.token}` } });
    expect(res.status).toBe(401);
    expect((res.json() as { error: string }).error).toBe('token_missing');
  });

  it('when a token for another resource is put in this resource’s cookie, then 403 wrong_resource', async () => {
    const other = await h.grant('other');
    const res = await send(h.url, '/app/x', { headers: { cookie: `jitgate_app=${other.token}` } });
    expect(res.status).toBe(403);
  });

  it('when the token comes in a custom header (X-Access-Token), then it is ignored', async () => {
    const res = await send(h.url, '/app/x', { headers: { 'x-access-token': grant.token } });
    expect(res.status).toBe(401);
  });
});

describe('Upstream assertions (X-JIT-Assertion) are no access tokens, and bind their resource', () => {
  /** The assertion app's upstream received for an honest request. */
  async function assertion(): Promise<string> {
    const res = await send(h.url, '/app/who', { headers: bearer(grant.token) });
    return String(res.json<Echoed>().headers['x-jit-assertion']);
  }

  it('when an assertion leaked from an upstream is sent to the authorizer as a bearer token, then 401 for its own and any other resource', async () => {
    const leaked = await assertion();
    expect(await refusedWith(leaked, '/app/x')).toMatchObject({ status: 401, error: 'token_invalid' });
    expect((await refusedWith(leaked, '/other/x')).status).toBe(401);
  });

  it('when app’s assertion is shown to another resource’s upstream, then it does not verify there', async () => {
    const jwks = h.keys.publicJwks();
    await expect(
      verifyAssertion(jwks, await assertion(), { issuer: PUBLIC_URL, resource: 'app' }),
    ).resolves.toMatchObject({ sub: ALICE });
    await expect(
      verifyAssertion(jwks, await assertion(), { issuer: PUBLIC_URL, resource: 'other' }),
    ).rejects.toMatchObject({ code: 'token_invalid' });
  });

  it.each([
    ['an access token', async () => grant.token],
    [
      'an assertion with alg none',
      async () =>
        assemble(
          { alg: 'none', kid: ours.kid, typ: 'jitgate-assertion+jwt' },
          { ...claims(), exp: nowSec() + 30 },
        ),
    ],
    [
      'an assertion signed by a stranger under our kid',
      async () =>
        signedByStranger(
          { ...claims(), exp: nowSec() + 30 },
          { kid: ours.kid, typ: 'jitgate-assertion+jwt' },
        ),
    ],
    [
      'an assertion HMAC-keyed with our public key',
      async () =>
        assemble(
          { alg: 'HS256', kid: ours.kid, typ: 'jitgate-assertion+jwt' },
          { ...claims(), exp: nowSec() + 30 },
          JSON.stringify(ours),
        ),
    ],
    [
      'an assertion of ours that lives an hour',
      async () => signedByUs({ ...claims(), exp: nowSec() + 3600 }, { typ: 'jitgate-assertion+jwt' }),
    ],
  ])('when an upstream is shown %s as an assertion, then it does not verify', async (_what, make) => {
    await expect(
      verifyAssertion(h.keys.publicJwks(), await make(), { issuer: PUBLIC_URL, resource: 'app' }),
    ).rejects.toMatchObject({
      code: expect.stringMatching(/^token_/),
    });
  });
});
