import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';

/**
 * A hand-rolled OpenID provider on loopback that answers the token request with whatever ID token
 * the test crafts: the tokens a real IdP would never issue (another issuer or audience, `alg: none`,
 * expired, a wrong nonce, a forged signature). The point is that openid-client and jitgate refuse
 * them. Discovery, the authorization endpoint (which redirects straight back with a code and the
 * state) and its JWKS are real enough for openid-client.
 */
export interface CraftInput {
  issuer: string;
  clientId: string;
  /** The nonce of the authorization request this code came from. */
  nonce: string;
  /** A correct token's claims for a verified user, to alter. */
  claims: JWTPayload;
  /** Signs with the IdP's published key (ES256) unless told otherwise. */
  sign(
    payload: JWTPayload,
    opts?: { alg?: string; kid?: string; key?: 'published' | 'stranger' },
  ): Promise<string>;
}

export interface CraftedIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** What the next token requests answer with as their ID token. */
  craft: (input: CraftInput) => Promise<string>;
  close(): Promise<void>;
}

export async function startCraftedIdp(): Promise<CraftedIdp> {
  const published = await generateKeyPair('ES256', { extractable: true });
  const stranger = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(published.publicKey)), kid: 'crafted', alg: 'ES256', use: 'sig' };
  const nonces = new Map<string, string>();
  const clientId = 'jitgate-crafted';
  const clientSecret = randomBytes(16).toString('base64url');

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', issuer);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/.well-known/openid-configuration') {
      return json(200, {
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['ES256'],
        token_endpoint_auth_methods_supported: ['client_secret_post'],
        code_challenge_methods_supported: ['S256'],
      });
    }
    if (url.pathname === '/jwks') return json(200, { keys: [jwk] });
    if (url.pathname === '/authorize') {
      const code = randomBytes(16).toString('base64url');
      nonces.set(code, url.searchParams.get('nonce') ?? '');
      const back = new URL(url.searchParams.get('redirect_uri') ?? '');
      back.searchParams.set('code', code);
      back.searchParams.set('state', url.searchParams.get('state') ?? '');
      res.writeHead(303, { location: back.href });
      return res.end();
    }
    if (url.pathname === '/token' && req.method === 'POST') {
      let body = '';
      for await (const chunk of req) body += chunk;
      const code = new URLSearchParams(body).get('code') ?? '';
      const now = Math.floor(Date.now() / 1000);
      const idToken = await idp.craft({
        issuer,
        clientId,
        nonce: nonces.get(code) ?? '',
        claims: {
          iss: issuer,
          aud: clientId,
          sub: 'crafted-alice',
          email: 'alice@example.com',
          email_verified: true,
          nonce: nonces.get(code) ?? '',
          iat: now,
          exp: now + 300,
        },
        sign: async (payload, opts = {}) => {
          if (opts.alg === 'none') {
            const head = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
            return `${head}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.`;
          }
          return new SignJWT(payload)
            .setProtectedHeader({ alg: 'ES256', kid: opts.kid ?? 'crafted' })
            .sign(opts.key === 'stranger' ? stranger.privateKey : published.privateKey);
        },
      });
      return json(200, {
        access_token: 'crafted-access',
        token_type: 'Bearer',
        expires_in: 60,
        id_token: idToken,
      });
    }
    json(404, { error: 'not_found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const idp: CraftedIdp = {
    issuer,
    clientId,
    clientSecret,
    craft: ({ claims, sign }) => sign(claims),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return idp;
}
