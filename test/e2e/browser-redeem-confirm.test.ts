import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SlackUserId } from '../../shared/ids.js';
import { hasChromium, launchChromium, warnIfNoChromium } from '../support/chromium.js';
import { ALICE, type Harness, startHarness } from './authorizer-harness.js';

warnIfNoChromium('the redeem confirmation browser test');

const MALLORY = 'U0MALLORY' as SlackUserId;

/**
 * The confirmation before a redeem replaces another person's access, in a real browser: the page's
 * button works (its Origin and SameSite=Strict nonce are sent), and the same form posted from
 * another site's page is refused.
 */
describe.runIf(hasChromium)('in a real browser: a redeem link of another person', () => {
  let h: Harness;
  let browser: Browser;
  let attacker: Server;
  let attackerUrl: string;
  /** What the attacker's page posts (set per test). */
  let forged = { action: '', code: '', csrf: '' };
  beforeAll(async () => {
    h = await startHarness();
    browser = await launchChromium();
    attacker = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<form id="f" method="post" action="${forged.action}">
<input name="code" value="${forged.code}"><input name="csrf" value="${forged.csrf}"></form>
<script>document.getElementById('f').submit()</script>`);
    });
    await new Promise<void>((resolve) => attacker.listen(0, 'localhost', resolve));
    attackerUrl = `http://localhost:${(attacker.address() as AddressInfo).port}/`;
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => attacker?.close(r));
    await h?.close();
  });

  async function link(user: SlackUserId): Promise<string> {
    const { grantId } = await h.grant('app', undefined, { user });
    return `${h.url}/_jitgate/redeem?code=${await h.store.codes.createRedeemCode(grantId)}`;
  }
  const whoIsServed = async (page: import('playwright-core').Page) =>
    JSON.parse((await page.textContent('body')) ?? '{}').headers['x-jit-user'];

  it("when Alice, holding her access, opens Mallory's link, then she is asked; her access stays until she clicks, and the click replaces it", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(await link(ALICE));
    expect(await whoIsServed(page)).toBe(ALICE);

    const asked = await page.goto(await link(MALLORY));
    expect(asked?.status()).toBe(200);
    expect(await page.textContent('h1')).toContain('would replace the access in this browser');
    await page.goto(`${h.url}/app/still`);
    expect(await whoIsServed(page)).toBe(ALICE);

    await page.goBack();
    await Promise.all([page.waitForURL(/\/app\/$/), page.click('button[type=submit]')]);
    expect(await whoIsServed(page)).toBe(MALLORY);
    await context.close();
  }, 30_000);

  it("when another site's page posts the confirmation (with the real page's code and token), then 403 and Alice's access stays", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(await link(ALICE));
    await page.goto(await link(MALLORY));
    forged = {
      action: `${h.url}/_jitgate/redeem`,
      code: (await page.getAttribute('input[name=code]', 'value')) ?? '',
      csrf: (await page.getAttribute('input[name=csrf]', 'value')) ?? '',
    };
    const [answer] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/_jitgate/redeem') && r.request().method() === 'POST'),
      page.goto(attackerUrl),
    ]);
    expect(answer.status()).toBe(403);
    await page.goto(`${h.url}/app/after`);
    expect(await whoIsServed(page)).toBe(ALICE);
    await context.close();
  }, 30_000);
});
