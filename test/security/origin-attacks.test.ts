import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, type Harness, send, startHarness } from '../e2e/authorizer-harness.js';
import { countFigures } from './figures.js';

/**
 * Every pathPrefix resource lives on the authorizer's one origin, so a script on one upstream's page
 * can send requests to any other path with the visitor's cookies and read the answers. Cookies
 * therefore name their resource, and a pathPrefix resource takes none unless the policy says
 * `browser: shared-origin` (in the harness: app, other and live take cookies; lan, local and down
 * take bearer tokens only).
 */
countFigures('attack');

const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h.close());

/** A victim's browser, reduced to what matters here: its cookie jar, filled by real redeems. */
class Jar {
  private readonly cookies: { name: string; value: string; path: string }[] = [];

  async redeem(resource: string): Promise<void> {
    const { grantId } = await h.grant(resource);
    const code = await h.store.codes.createRedeemCode(grantId);
    const res = await send(h.url, `/_jitgate/redeem?code=${code}`, { headers: { accept: BROWSER } });
    for (const line of res.headers['set-cookie'] ?? []) {
      const [pair, ...attributes] = line.split(';').map((s) => s.trim());
      const [name, value] = pair!.split('=') as [string, string];
      const path = attributes.find((a) => a.startsWith('Path='))?.slice('Path='.length) ?? '/';
      this.cookies.push({ name, value, path });
    }
  }

  names(): string[] {
    return this.cookies.map((c) => c.name);
  }

  /** The Cookie header the browser sends with a request for `path` (RFC 6265 path-match). */
  headerFor(path: string): string | undefined {
    const sent = this.cookies.filter(
      (c) => path === c.path || path.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`),
    );
    return sent.length > 0 ? sent.map((c) => `${c.name}=${c.value}`).join('; ') : undefined;
  }

  /** Every cookie, as if the browser sent them all (it does not; this is the worst case). */
  all(): string {
    return this.cookies.map((c) => `${c.name}=${c.value}`).join('; ');
  }

  value(name: string): string {
    return this.cookies.find((c) => c.name === name)!.value;
  }
}

describe('one origin, several resources: a page script cannot borrow another resource’s cookie', () => {
  it('when the victim opens the links of a shared-origin and a bearer-only resource, then only the shared-origin one leaves a cookie', async () => {
    const victim = new Jar();
    await victim.redeem('app');
    await victim.redeem('local');
    // Beside it, the holder cookie (whose access this browser redeemed), sent to the redeem path only.
    expect(victim.names()).toEqual(['jitgate_app', 'jitgate_holder']);
    expect(victim.headerFor('/app/')).toBe(`jitgate_app=${victim.value('jitgate_app')}`);
    expect(victim.headerFor('/_jitgate/redeem')).toMatch(/^jitgate_holder=U0ALICE\./);
  });

  it('when a script on app’s page calls a bearer-only resource with the victim’s cookies, then 401 and the upstream never sees it', async () => {
    const victim = new Jar();
    await victim.redeem('app');
    await victim.redeem('other');
    const before = h.echo.requests.length;
    // What the browser sends for fetch('/local/…') from app's page, then every cookie it holds.
    for (const cookie of [victim.headerFor('/local/admin'), victim.all()]) {
      const res = await send(h.url, '/local/admin', { headers: cookie ? { cookie } : {} });
      expect(res.status).toBe(401);
      expect(res.json()).toMatchObject({ error: 'token_missing' });
    }
    expect(h.echo.requests.length).toBe(before);
  });

  it('when a cookie for a bearer-only resource holds its real token (planted by a script), then 401 token_missing naming bearer tokens', async () => {
    const { token } = await h.grant('local');
    const before = h.echo.requests.length;
    const res = await send(h.url, '/local/admin', { headers: { cookie: `jitgate_local=${token}` } });
    expect(res.status).toBe(401);
    const body = res.json<{ error: string; hint: string }>();
    expect(body.error).toBe('token_missing');
    expect(body.hint).toContain('takes bearer tokens only');
    expect(h.echo.requests.length).toBe(before);
    // The same token as a bearer token is what the resource is for.
    expect((await send(h.url, '/local/admin', { headers: bearer(token) })).status).toBe(200);
  });

  it('when a request to other carries app’s cookie, then 401: a cookie names its resource', async () => {
    const victim = new Jar();
    await victim.redeem('app');
    expect(victim.headerFor('/other/x')).toBeUndefined(); // Path=/app: the browser keeps it to /app
    const before = h.echo.requests.length;
    const res = await send(h.url, '/other/x', { headers: { cookie: victim.all() } });
    expect(res.status).toBe(401);
    expect(res.json()).toMatchObject({ error: 'token_missing' });
    // app's token moved into other's cookie name is a token for another resource.
    const moved = await send(h.url, '/other/x', {
      headers: { cookie: `jitgate_other=${victim.value('jitgate_app')}` },
    });
    expect(moved.status).toBe(403);
    expect(moved.json()).toMatchObject({ error: 'wrong_resource' });
    expect(h.echo.requests.length).toBe(before);
  });
});
