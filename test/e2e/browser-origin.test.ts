import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasChromium, launchChromium, warnIfNoChromium } from '../support/chromium.js';
import { type Harness, startHarness } from './authorizer-harness.js';

warnIfNoChromium('the browser origin test');

/**
 * The threat behind `browser: shared-origin`, in a real browser: a script on one upstream's page is
 * same-origin with every pathPrefix resource, so it can call them with the visitor's cookies and
 * read the replies. In the harness app and other are shared-origin; local takes bearer tokens only.
 */
describe.runIf(hasChromium)('in a real browser: one origin, several resources', () => {
  let h: Harness;
  let browser: Browser;
  beforeAll(async () => {
    h = await startHarness();
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  async function openLink(page: Page, resource: string) {
    const { grantId } = await h.grant(resource);
    const code = await h.store.codes.createRedeemCode(grantId);
    return page.goto(`${h.url}/_jitgate/redeem?code=${code}`);
  }

  /** What a script on the current page gets back from fetch(path): same origin, cookies included. */
  const scriptFetch = (page: Page, path: string) =>
    page.evaluate(async (p) => {
      const res = await fetch(p, { credentials: 'include' });
      return { status: res.status, body: await res.text() };
    }, path);

  it('when a script on app’s page calls the other resources, then it reads shared-origin other’s answer but bearer-only local refuses it', async () => {
    const page = await (await browser.newContext()).newPage();
    expect((await openLink(page, 'other'))?.status()).toBe(200);
    const local = await openLink(page, 'local');
    expect(local?.status()).toBe(200);
    expect(new URL(page.url()).pathname).toBe('/_jitgate/redeem'); // no redirect to /local/
    expect(await page.textContent('#commands')).toContain("curl -H 'Accept: application/json'");
    expect((await openLink(page, 'app'))?.status()).toBe(200);
    expect(new URL(page.url()).pathname).toBe('/app/');
    const cookies = await page.context().cookies();
    const names = cookies.map((c) => c.name).sort();
    // No cookie for local; beside the two access cookies, the holder cookie (no token in it), sent to the redeem path only.
    expect(names).toEqual(['jitgate_app', 'jitgate_holder', 'jitgate_other']);
    expect(cookies.find((c) => c.name === 'jitgate_holder')).toMatchObject({
      path: '/_jitgate/redeem',
      httpOnly: true,
    });
    expect(await page.evaluate('document.cookie')).toBe(''); // HttpOnly: the script cannot read them

    // The accepted risk of shared-origin, which policy check warns about: other answers app's page.
    const other = await scriptFetch(page, '/other/secrets');
    expect(other.status).toBe(200);
    expect(JSON.parse(other.body).headers['x-jit-user']).toBe('U0ALICE');
    // A bearer-only resource gives the script nothing, whatever cookies the browser holds.
    const before = h.echo.requests.length;
    const refused = await scriptFetch(page, '/local/secrets');
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.body)).toMatchObject({ error: 'token_missing' });
    expect(h.echo.requests.length).toBe(before);
    await page.close();
  }, 60_000);
});
