import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { clientResolver } from '../../authorizer/checks/client-address.js';
import { cookieValue, findToken, withoutOurCookies } from '../../authorizer/checks/credential.js';
import { rewriteUpstreamHeaders } from '../../authorizer/proxy/headers.js';
import type { PublicAddress } from '../../authorizer/proxy/public-address.js';

const identity = {
  user: 'U0ALICE',
  email: 'alice@example.com',
  grantId: 'g_x',
  role: 'viewer',
  assertion: 'a.b.c',
};
const direct = clientResolver([])('::ffff:198.51.100.9', undefined);
/** A resource on the public URL `http://access.example.com`, without a prefix. */
const HOSTED: PublicAddress = {
  protocol: 'http:',
  host: 'access.example.com',
  prefix: undefined,
  base: 'http://access.example.com',
};
const PREFIXED: PublicAddress = {
  protocol: 'https:',
  host: 'access.example.com:8443',
  prefix: '/grafana',
  base: 'https://access.example.com:8443/grafana',
};

function rewrite(
  headers: IncomingHttpHeaders,
  opts: Partial<Parameters<typeof rewriteUpstreamHeaders>[1]> = {},
): IncomingHttpHeaders {
  const copy = { ...headers };
  rewriteUpstreamHeaders(copy, {
    identity,
    tokenFrom: 'bearer',
    client: direct,
    address: HOSTED,
    websocket: false,
    ...opts,
  });
  return copy;
}

describe('rewriteUpstreamHeaders', () => {
  it('when a client sends X-JIT-* headers in any spelling, then only ours reach the upstream', () => {
    const out = rewrite({
      'x-jit-user': 'U0EVIL',
      'x-jit-role': 'admin',
      'x-jit-anything': '1',
      x_jit_user: 'U0EVIL',
      host: 'a.example',
    });
    expect(out['x-jit-user']).toBe('U0ALICE');
    expect(out['x-jit-role']).toBe('viewer');
    expect(out['x-jit-email']).toBe('alice@example.com');
    expect(out['x-jit-grant']).toBe('g_x');
    expect(out['x-jit-assertion']).toBe('a.b.c');
    expect(out['x-jit-anything']).toBeUndefined();
    expect(out.x_jit_user).toBeUndefined();
  });

  it('when the grant has no e-mail, then the upstream gets no X-JIT-Email at all, whatever the client sent', () => {
    for (const sent of [
      {},
      { 'x-jit-email': 'boss@example.com' },
      { 'x-jit-email': '' },
      { x_jit_email: 'x' },
    ]) {
      const out = rewrite({ ...sent, host: 'a.example' }, { identity: { ...identity, email: '' } });
      expect(Object.keys(out).filter((k) => k.replaceAll('_', '-').toLowerCase() === 'x-jit-email')).toEqual(
        [],
      );
      expect(out['x-jit-user']).toBe('U0ALICE');
    }
  });

  it('when Connection names headers, then those headers and Connection itself are dropped', () => {
    const out = rewrite({
      connection: 'keep-alive, X-Custom, x-jit-user',
      'x-custom': 'v',
      'x-other': 'kept',
    });
    expect(out['x-custom']).toBeUndefined();
    expect(out.connection).toBeUndefined();
    expect(out['x-other']).toBe('kept');
    expect(out['x-jit-user']).toBe('U0ALICE');
  });

  it('when the token came in Authorization, then Authorization is dropped', () => {
    expect(rewrite({ authorization: 'Bearer tok' }).authorization).toBeUndefined();
  });

  it('when the token came in the cookie, then the upstream keeps its own Authorization and cookies', () => {
    const out = rewrite(
      {
        authorization: 'Basic dXNlcjpwdw==',
        cookie: 'jitgate_app=tok; session=s1; jitgate_other=t2; theme=dark',
      },
      { tokenFrom: 'cookie' },
    );
    expect(out.authorization).toBe('Basic dXNlcjpwdw==');
    expect(out.cookie).toBe('session=s1; theme=dark');
  });

  it('when only jitgate cookies were sent, then no Cookie header is left', () => {
    expect(rewrite({ cookie: 'jitgate_app=tok' }, { tokenFrom: 'cookie' }).cookie).toBeUndefined();
  });

  it('when the peer is not trusted, then spoofed forwarding headers are replaced', () => {
    const out = rewrite({
      host: 'access.example.com',
      'x-forwarded-for': '10.0.0.1',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'evil.example',
      forwarded: 'for=10.0.0.1',
      'x-real-ip': '10.0.0.1',
    });
    expect(out['x-forwarded-for']).toBe('198.51.100.9');
    expect(out['x-forwarded-proto']).toBe('http');
    expect(out['x-forwarded-host']).toBe('access.example.com');
    expect(out.forwarded).toBeUndefined();
    expect(out['x-real-ip']).toBeUndefined();
  });

  it('when the peer is a trusted proxy, then its chain is extended with the peer', () => {
    const client = clientResolver(['10.0.0.0/8'])('10.0.0.2', '203.0.113.5');
    const out = rewrite(
      {
        host: 'internal',
        'x-forwarded-for': '203.0.113.5',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'a.example',
      },
      { client },
    );
    expect(out['x-forwarded-for']).toBe('203.0.113.5, 10.0.0.2');
    expect(out['x-forwarded-proto']).toBe('https');
    expect(out['x-forwarded-host']).toBe('a.example');
  });

  it('when an untrusted client sends forwarding headers in every spelling, then none survives and ours are set from the public URL, never from Host', () => {
    const out = rewrite(
      {
        host: 'evil.example',
        'x-forwarded-for': '10.0.0.1, 10.0.0.2',
        x_forwarded_for: '10.0.0.3',
        'x-forwarded-host': 'evil.example, access.example.com',
        x_forwarded_host: 'evil.example',
        'x-forwarded-proto': 'http',
        'x-forwarded-prefix': '/admin',
        x_forwarded_prefix: '/admin',
        'x-forwarded-port': '1',
        'x-forwarded-server': 'evil',
        'x-forwarded-scheme': 'http',
        'x-forwarded-ssl': 'off',
        'front-end-https': 'off',
        'x-original-host': 'evil.example',
        'x-host': 'evil.example',
        forwarded: 'for=10.0.0.1;host=evil.example;proto=http, for=10.0.0.2',
        'x-real-ip': '10.0.0.1',
        'true-client-ip': '10.0.0.1',
        'x-client-ip': '10.0.0.1',
      },
      { address: PREFIXED },
    );
    const forwarding = Object.keys(out).filter((k) =>
      /forward|real-ip|client-ip|original-host|x-host|front-end/.test(k),
    );
    expect(forwarding.sort()).toEqual([
      'x-forwarded-for',
      'x-forwarded-host',
      'x-forwarded-prefix',
      'x-forwarded-proto',
    ]);
    expect(out['x-forwarded-for']).toBe('198.51.100.9');
    expect(out['x-forwarded-host']).toBe('access.example.com:8443');
    expect(out['x-forwarded-proto']).toBe('https');
    expect(out['x-forwarded-prefix']).toBe('/grafana');
  });

  it('when the resource has no prefix, then a client-sent X-Forwarded-Prefix is dropped, not passed on', () => {
    const out = rewrite({ 'x-forwarded-prefix': '/admin', x_forwarded_prefix: '/x' });
    expect(Object.keys(out).filter((k) => k.includes('prefix'))).toEqual([]);
  });

  it('when a trusted proxy forwards, then its address, scheme and host are believed but the prefix is ours and underscore spellings go', () => {
    const client = clientResolver(['10.0.0.0/8'])('10.0.0.2', '203.0.113.5');
    const out = rewrite(
      {
        'x-forwarded-for': '203.0.113.5',
        'x-forwarded-host': 'a.example',
        'x-forwarded-prefix': '/other',
        x_forwarded_host: 'evil.example',
        x_real_ip: '10.9.9.9',
      },
      { client, address: PREFIXED },
    );
    expect(out['x-forwarded-host']).toBe('a.example');
    expect(out['x-forwarded-proto']).toBe('https');
    expect(out['x-forwarded-prefix']).toBe('/grafana');
    expect(out.x_forwarded_host).toBeUndefined();
    expect(out.x_real_ip).toBeUndefined();
  });

  it('when a WebSocket is upgraded, then Upgrade and Connection: upgrade stay; otherwise Upgrade goes', () => {
    const ws = rewrite({ connection: 'Upgrade', upgrade: 'websocket' }, { websocket: true });
    expect(ws.connection).toBe('upgrade');
    expect(ws.upgrade).toBe('websocket');
    const plain = rewrite({ upgrade: 'h2c' });
    expect(plain.upgrade).toBeUndefined();
  });

  it('when hop-by-hop and Expect headers are sent, then they are not passed on', () => {
    const out = rewrite({
      'proxy-authorization': 'Basic x',
      te: 'trailers',
      expect: '100-continue',
      'keep-alive': '5',
    });
    expect(out['proxy-authorization']).toBeUndefined();
    expect(out.te).toBeUndefined();
    expect(out.expect).toBeUndefined();
    expect(out['keep-alive']).toBeUndefined();
  });
});

describe('tokens in requests', () => {
  it('when both a bearer token and a cookie are sent, then the bearer token is used', () => {
    expect(findToken('Bearer abc', 'jitgate_app=def', 'jitgate_app')).toEqual({
      token: 'abc',
      from: 'bearer',
    });
  });

  it('when only the cookie is sent, then it is used', () => {
    expect(findToken(undefined, 'a=1; jitgate_app=def; b=2', 'jitgate_app')).toEqual({
      token: 'def',
      from: 'cookie',
    });
  });

  it('when Authorization is not Bearer and there is no cookie, then there is no token', () => {
    expect(findToken('Basic abc', undefined, 'jitgate_app')).toBeUndefined();
  });

  it('when another resource cookie is present, then it is not mistaken for this one', () => {
    expect(cookieValue('jitgate_application=x; jitgate_app2=y', 'jitgate_app')).toBeUndefined();
  });

  it('when cookies are filtered, then only jitgate ones go', () => {
    expect(withoutOurCookies('a=1; jitgate_x=2;b=3')).toBe('a=1; b=3');
  });
});
