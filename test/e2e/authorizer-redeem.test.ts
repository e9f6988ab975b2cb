import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, type Echoed, type Harness, PUBLIC_URL, send, startHarness } from './authorizer-harness.js';

const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

describe('authorizer: redeem links', () => {
  let h: Harness;
  const logs: string[] = [];
  beforeAll(async () => {
    h = await startHarness({ logLines: logs });
  });
  afterAll(async () => h.close());

  async function codeFor(resource: string, role?: string) {
    const { grantId, expiresAt } = await h.grant(resource, role);
    return { grantId, expiresAt, code: await h.store.codes.createRedeemCode(grantId) };
  }

  it('when a command-line client redeems with Accept: application/json, then it gets the token as JSON, uncached', async () => {
    const { grantId, expiresAt, code } = await codeFor('app', 'editor');
    const res = await send(h.url, `/_jitgate/redeem?code=${code}`, {
      headers: { accept: 'application/json' },
    });
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['set-cookie']).toBeUndefined();
    const body = res.json<{ token: string; expiresAt: string }>();
    expect(body).toMatchObject({ tokenType: 'Bearer', resource: 'app', role: 'editor', grantId });
    expect(Date.parse(body.expiresAt)).toBe(expiresAt);
    const through = await send(h.url, '/app/api/x', { method: 'POST', headers: bearer(body.token) });
    expect(through.status).toBe(200);
    expect(through.json<Echoed>().headers['x-jit-role']).toBe('editor');
  });

  it('when a browser redeems, then it gets a scoped HttpOnly cookie and a 303 to the resource root, and the cookie works', async () => {
    const { code } = await codeFor('app');
    const res = await send(h.url, `/_jitgate/redeem?code=${code}`, { headers: { accept: BROWSER } });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/app/');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    const cookie = res.headers['set-cookie']![0]!;
    expect(cookie).toMatch(/^jitgate_app=[\w-]+\.[\w-]+\.[\w-]+; /);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Lax');
    expect(cookie).toContain('Path=/app;');
    expect(cookie).not.toContain('Secure');
    expect(cookie).not.toContain('Domain');
    const maxAge = Number(/Max-Age=(\d+)/.exec(cookie)![1]);
    expect(maxAge).toBeGreaterThan(55);
    expect(maxAge).toBeLessThanOrEqual(60);

    const pair = cookie.split(';')[0]!;
    const through = await send(h.url, res.headers.location!, { headers: { cookie: `${pair}; theme=dark` } });
    expect(through.status).toBe(200);
    const seen = through.json<Echoed>();
    expect(seen.headers['x-jit-user']).toBe('U0ALICE');
    expect(seen.headers.cookie).toBe('theme=dark');
  });

  it('when the link carries next/redirect targets, then they are ignored: the redirect goes to the resource only', async () => {
    const { code } = await codeFor('app');
    const res = await send(
      h.url,
      `/_jitgate/redeem?next=https://evil.example/&code=${code}&redirect=//evil.example&return_to=/other`,
      { headers: { accept: BROWSER } },
    );
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/app/');
  });

  it('when a code is used twice, then the second use gets 410 with a clear page', async () => {
    const { code } = await codeFor('app');
    expect(
      (await send(h.url, `/_jitgate/redeem?code=${code}`, { headers: { accept: BROWSER } })).status,
    ).toBe(303);
    const again = await send(h.url, `/_jitgate/redeem?code=${code}`, { headers: { accept: BROWSER } });
    expect(again.status).toBe(410);
    expect(again.headers['content-type']).toMatch(/text\/html/);
    expect(again.text).toContain('already been used');
    expect(again.headers['set-cookie']).toBeUndefined();
    const json = await send(h.url, `/_jitgate/redeem?code=${code}`, {
      headers: { accept: 'application/json' },
    });
    expect(json.json()).toMatchObject({ error: 'code_used' });
  });

  it('when a code is unknown, malformed or missing, then 404', async () => {
    for (const q of ['?code=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', '?code=../../x', '', '?code=']) {
      const res = await send(h.url, `/_jitgate/redeem${q}`, { headers: { accept: 'application/json' } });
      expect(res.status).toBe(404);
      expect(res.json()).toMatchObject({ error: 'code_unknown' });
      expect(res.headers['cache-control']).toBe('no-store');
    }
  });

  it('when a browser opens the link of a resource without browser: shared-origin, then no cookie is set, the page gives the commands, and the code still redeems once', async () => {
    const { grantId, code } = await codeFor('local');
    const page = await send(h.url, `/_jitgate/redeem?code=${code}`, { headers: { accept: BROWSER } });
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.headers['set-cookie']).toBeUndefined();
    expect(page.headers.location).toBeUndefined();
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.text).toContain('local is reached with a token from the command line');
    // The shell every page of jitgate's own has (authorizer/html-page.ts), footer included.
    expect(page.text).toContain('jitgate · 200 · <code>command_line</code>');
    expect(page.text).toContain(
      `curl -H &#39;Accept: application/json&#39; &#39;${PUBLIC_URL}/_jitgate/redeem?code=${code}&#39;`,
    );
    expect(page.text).toContain(`curl -H &quot;Authorization: Bearer $TOKEN&quot; ${PUBLIC_URL}/local/`);
    // A client that asks for neither HTML nor JSON (curl's */*) is told the same, with a 406.
    const plain = await send(h.url, `/_jitgate/redeem?code=${code}`, { headers: { accept: '*/*' } });
    expect(plain.status).toBe(406);
    expect(plain.headers['set-cookie']).toBeUndefined();
    expect(plain.text).toContain(
      `curl -H 'Accept: application/json' '${PUBLIC_URL}/_jitgate/redeem?code=${code}'`,
    );

    const json = await send(h.url, `/_jitgate/redeem?code=${code}`, {
      headers: { accept: 'application/json' },
    });
    expect(json.status).toBe(200);
    const { token } = json.json<{ token: string }>();
    expect(json.json()).toMatchObject({ grantId, resource: 'local', tokenType: 'Bearer' });
    expect((await send(h.url, '/local/x', { headers: bearer(token) })).status).toBe(200);
    const again = await send(h.url, `/_jitgate/redeem?code=${code}`, { headers: { accept: BROWSER } });
    expect(again.status).toBe(410);
  });

  it('when a cookie holds a real token for a resource without browser: shared-origin, then 401 token_missing says it takes bearer tokens only', async () => {
    const { token } = await h.grant('local');
    const res = await send(h.url, '/local/x', { headers: { cookie: `jitgate_local=${token}` } });
    expect(res.status).toBe(401);
    const body = res.json<{ error: string; message: string; hint: string }>();
    expect(body.error).toBe('token_missing');
    expect(body.message).toContain('local does not accept browser cookies, only bearer tokens');
    expect(body.hint).toContain('local takes bearer tokens only: send Authorization: Bearer <token>');
    expect(body.hint).toContain('/access local/access 1h <reason>');
    expect((await send(h.url, '/local/x', { headers: bearer(token) })).status).toBe(200);
  });

  it('when the grant was revoked before the link was opened, then 410 and no token', async () => {
    const { grantId, code } = await codeFor('app');
    await h.store.transitions.revoke(grantId, 'U0BOSS' as never, 'test');
    const res = await send(h.url, `/_jitgate/redeem?code=${code}`, {
      headers: { accept: 'application/json' },
    });
    expect(res.status).toBe(410);
    expect(res.json()).toMatchObject({ error: 'grant_not_active' });
  });

  it('when a host-matched resource is redeemed on the public host, then a fresh one-time code moves it to its own host, which sets a host-only cookie', async () => {
    const { code } = await codeFor('hosted');
    const first = await send(h.url, `/_jitgate/redeem?code=${code}`, { headers: { accept: BROWSER } });
    expect(first.status).toBe(303);
    const next = new URL(first.headers.location!);
    expect(`${next.protocol}//${next.host}`).toBe(`http://hosted.test.local:${new URL(PUBLIC_URL).port}`);
    expect(next.pathname).toBe('/_jitgate/redeem');
    expect(next.searchParams.get('code')).not.toBe(code);
    expect(first.headers['set-cookie']).toBeUndefined();

    const onHost = await send(h.url, `${next.pathname}${next.search}`, {
      headers: { accept: BROWSER, host: 'hosted.test.local' },
    });
    expect(onHost.status).toBe(303);
    expect(onHost.headers.location).toBe('/');
    const cookie = onHost.headers['set-cookie']![0]!;
    expect(cookie).toMatch(/^jitgate_hosted=.+; Path=\/;/);
    expect(cookie).not.toContain('Domain');
    const through = await send(h.url, '/', {
      headers: { cookie: cookie.split(';')[0]!, host: 'hosted.test.local' },
    });
    expect(through.status).toBe(200);
  });

  it('when redeem and proxied requests are logged, then no token, code or cookie appears in the log', async () => {
    const { code } = await codeFor('app');
    const res = await send(h.url, `/_jitgate/redeem?code=${code}`, {
      headers: { accept: 'application/json' },
    });
    const { token } = res.json<{ token: string }>();
    await send(h.url, '/app/', { headers: { ...bearer(token), cookie: `jitgate_app=${token}` } });
    const all = logs.join('\n');
    expect(all).toContain('"path":"/_jitgate/redeem"');
    expect(all).not.toContain(code);
    expect(all).not.toContain(token);
  });
});

describe('authorizer: redeem behind an https public URL', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ publicUrl: 'https://access.example.com' });
  });
  afterAll(async () => h.close());

  it('when the public URL is https, then the cookie is Secure', async () => {
    const { grantId } = await h.grant('app');
    const code = await h.store.codes.createRedeemCode(grantId);
    const res = await send(h.url, `/_jitgate/redeem?code=${code}`, { headers: { accept: BROWSER } });
    expect(res.headers['set-cookie']![0]).toMatch(/; Secure$/);
  });
});
