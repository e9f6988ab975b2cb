import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAssertion } from '../../shared/tokens/index.js';
import { bearer, type Echoed, type Harness, PUBLIC_URL, send, startHarness } from './authorizer-harness.js';

const rawNames = (h: Harness) => h.echo.requests.at(-1)!.rawHeaderNames.map((n) => n.toLowerCase());

describe('authorizer: what the upstream receives', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h.close());

  it('when a request is allowed, then the upstream gets the path without the prefix, our identity headers and a verifiable assertion', async () => {
    const { token, grantId } = await h.grant('app', 'viewer');
    const res = await send(h.url, '/app/d/abc?x=1', { headers: bearer(token) });
    expect(res.status).toBe(200);
    const seen = res.json<Echoed>();
    expect(seen.path).toBe('/d/abc?x=1');
    expect(seen.headers).toMatchObject({
      'x-jit-user': 'U0ALICE',
      'x-jit-email': 'u0alice@example.com',
      'x-jit-grant': grantId,
      'x-jit-role': 'viewer',
    });
    const claims = await verifyAssertion(h.keys.publicJwks(), seen.headers['x-jit-assertion']!, {
      issuer: PUBLIC_URL,
      resource: 'app',
    });
    expect(claims).toMatchObject({ sub: 'U0ALICE', aud: 'app', gid: grantId, role: 'viewer' });
  });

  it('when the client sends X-JIT-* headers in any spelling, also twice, then only ours reach the upstream', async () => {
    const { token } = await h.grant('app');
    const res = await send(h.url, '/app/', {
      headers: {
        ...bearer(token),
        'X-JIT-User': 'U0MALLORY',
        'x-Jit-Role': 'admin',
        'X-JIT-Grant': ['g_fake1', 'g_fake2'],
        'X-Jit-Something-Else': 'x',
      },
    });
    const seen = res.json<Echoed>();
    expect(seen.headers['x-jit-user']).toBe('U0ALICE');
    expect(seen.headers['x-jit-role']).toBe('viewer');
    expect(seen.headers['x-jit-grant']).toMatch(/^g_[a-z2-7]{26}$/);
    expect(seen.headers['x-jit-something-else']).toBeUndefined();
    for (const name of ['x-jit-user', 'x-jit-role', 'x-jit-grant', 'x-jit-email', 'x-jit-assertion']) {
      expect(rawNames(h).filter((n) => n === name)).toHaveLength(1);
    }
  });

  it('when the client names headers in Connection (hop-by-hop smuggling), then they are dropped and ours still arrive', async () => {
    const { token } = await h.grant('app');
    const res = await send(h.url, '/app/', {
      headers: {
        ...bearer(token),
        Connection: 'keep-alive, X-JIT-User, x-jit-email, X-Custom',
        'X-Custom': 'v',
      },
    });
    const seen = res.json<Echoed>();
    expect(seen.headers['x-jit-user']).toBe('U0ALICE');
    expect(seen.headers['x-jit-email']).toBe('u0alice@example.com');
    expect(seen.headers['x-custom']).toBeUndefined();
    expect(String(seen.headers.connection ?? '')).not.toMatch(/x-jit|x-custom/i);
  });

  it('when the token comes as a bearer header, then no Authorization header reaches the upstream', async () => {
    const { token } = await h.grant('app');
    const seen = (await send(h.url, '/app/', { headers: bearer(token) })).json<Echoed>();
    expect(seen.headers.authorization).toBeUndefined();
    expect(JSON.stringify(seen)).not.toContain(token);
  });

  it('when the token comes as our cookie, then every jitgate cookie is removed and other cookies and Authorization stay', async () => {
    const { token } = await h.grant('app');
    const seen = (
      await send(h.url, '/app/', {
        headers: {
          cookie: `theme=dark; jitgate_app=${token}; jitgate_other=abc; session=s1`,
          authorization: 'Basic dXNlcjpwYXNz',
        },
      })
    ).json<Echoed>();
    expect(seen.headers.cookie).toBe('theme=dark; session=s1');
    expect(seen.headers.authorization).toBe('Basic dXNlcjpwYXNz');
    expect(seen.headers['x-jit-user']).toBe('U0ALICE');
    expect(JSON.stringify(seen)).not.toContain(token);
  });

  it('when our cookie is the only cookie, then no Cookie header reaches the upstream', async () => {
    const { token } = await h.grant('app');
    const seen = (await send(h.url, '/app/', { headers: { cookie: `jitgate_app=${token}` } })).json<Echoed>();
    expect(seen.headers.cookie).toBeUndefined();
  });

  it('when an untrusted client sends X-Forwarded-*, then the upstream sees the socket address and our own values (the public URL, never the Host it sent)', async () => {
    const { token } = await h.grant('app');
    const seen = (
      await send(h.url, '/app/', {
        headers: {
          ...bearer(token),
          'X-Forwarded-For': '10.9.9.9',
          'X-Forwarded-Proto': 'https',
          'X-Forwarded-Host': 'evil.example',
          Forwarded: 'for=10.9.9.9',
        },
      })
    ).json<Echoed>();
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen.headers['x-forwarded-proto']).toBe('http');
    expect(seen.headers['x-forwarded-host']).toBe(new URL(PUBLIC_URL).host);
    expect(seen.headers['x-forwarded-prefix']).toBe('/app');
    expect(seen.headers.forwarded).toBeUndefined();
    expect(seen.headers.host).toBe(new URL(h.echo.url).host);
  });

  it('when a resource is matched by host, then the whole path goes to its upstream', async () => {
    const { token } = await h.grant('hosted');
    const res = await send(h.url, '/hosted/path?q=1', {
      headers: { ...bearer(token), host: 'HOSTED.test.local:443' },
    });
    expect(res.status).toBe(200);
    expect(res.json<Echoed>().path).toBe('/hosted/path?q=1');
  });

  it('when the request has a body, then it streams to the upstream unchanged', async () => {
    const { token } = await h.grant('app', 'editor');
    const body = JSON.stringify({ a: 1, text: 'x'.repeat(100_000) });
    const res = await send(h.url, '/app/api/items', {
      method: 'POST',
      headers: { ...bearer(token), 'content-type': 'application/json' },
      body,
    });
    expect(res.json<Echoed>().body).toBe(body);
  });
});

describe('authorizer: client address behind trusted proxies', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ trustedProxies: ['127.0.0.1/32'] });
  });
  afterAll(async () => h.close());

  it('when a trusted proxy forwards for a client in the allowed network, then access is allowed and the chain extended', async () => {
    const { token } = await h.grant('lan');
    const res = await send(h.url, '/lan/', { headers: { ...bearer(token), 'X-Forwarded-For': '10.1.2.3' } });
    expect(res.status).toBe(200);
    expect(res.json<Echoed>().headers['x-forwarded-for']).toBe('10.1.2.3, 127.0.0.1');
  });

  it('when the client prepends an allowed address to the chain, then the right-most untrusted entry decides', async () => {
    const { token } = await h.grant('lan');
    const res = await send(h.url, '/lan/', {
      headers: { ...bearer(token), 'X-Forwarded-For': '10.1.2.3, 203.0.113.7' },
    });
    expect(res.status).toBe(403);
    expect(res.json().error).toBe('network_not_allowed');
  });

  it('when the chain holds an IPv4-mapped IPv6 address, then it is read as IPv4', async () => {
    const { token } = await h.grant('lan');
    const res = await send(h.url, '/lan/', {
      headers: { ...bearer(token), 'X-Forwarded-For': '::ffff:10.4.4.4' },
    });
    expect(res.status).toBe(200);
  });

  it('when the chain holds garbage, then the client is unknown and an allow-list refuses it', async () => {
    const { token } = await h.grant('lan');
    const res = await send(h.url, '/lan/', {
      headers: { ...bearer(token), 'X-Forwarded-For': '10.1.1.1, nonsense' },
    });
    expect(res.status).toBe(403);
  });
});

describe('authorizer: X-Forwarded-For from an untrusted peer', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ trustedProxies: ['10.0.0.0/8'] });
  });
  afterAll(async () => h.close());

  it('when a peer that is not a trusted proxy claims an allowed address, then the claim is ignored', async () => {
    const { token } = await h.grant('lan');
    const res = await send(h.url, '/lan/', { headers: { ...bearer(token), 'X-Forwarded-For': '10.1.2.3' } });
    expect(res.status).toBe(403);
    expect(res.json().error).toBe('network_not_allowed');
  });
});
