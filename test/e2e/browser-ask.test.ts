import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PEOPLE, type LocalStack, startLocalStack } from '../../scripts/demo/stack.js';
import { hasChromium, launchChromium, warnIfNoChromium } from '../support/chromium.js';
import { REDIS_TARGET } from '../support/redis.js';

warnIfNoChromium('the signed-in browser test');

describe.runIf(hasChromium)('in a real browser, signed in: blocked, request, continue', () => {
  let stack: LocalStack;
  let browser: Browser;
  beforeAll(async () => {
    stack = await startLocalStack({ redisUrl: REDIS_TARGET, signIn: true });
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('when Dana opens the dashboard, signs in at the IdP, asks on the refusal page and Alice approves in Slack, then the page goes on to the dashboard by itself with her identity', async () => {
    const { dana, alice } = DEMO_PEOPLE;
    expect(stack.idp).toBeDefined();
    const page = await browser.newPage();
    const seenIdp: string[] = [];
    page.on('request', (r) => {
      if (r.url().startsWith(stack.idp!.issuer)) seenIdp.push(r.url());
    });

    // Resource → IdP → back → the refusal page with the form.
    const refused = await page.goto(`${stack.authorizerUrl}/grafana/d/errors?panel=2`);
    expect(seenIdp.length).toBeGreaterThan(0);
    expect(refused?.status()).toBe(403);
    expect(new URL(page.url()).pathname).toBe('/grafana/d/errors');
    expect(await page.textContent('h1')).toBe(`Signed in as ${dana.email} — you have no access to grafana`);
    expect(
      await page.$$eval('select[name=role] option', (os) => os.map((o) => o.getAttribute('value'))),
    ).toEqual(['viewer', 'editor']);
    expect(await page.inputValue('input[name=duration]')).toBe('30m');

    // Bad input first: the form comes back with the message, nothing sent.
    await page.fill('input[name=duration]', '3h');
    await page.fill('textarea[name=reason]', 'INC-42 error rates');
    await page.click('button[type=submit]');
    expect(await page.textContent('#ask-error')).toContain('2h');
    expect(await page.inputValue('textarea[name=reason]')).toBe('INC-42 error rates');

    await page.fill('input[name=duration]', '20m');
    await Promise.all([page.waitForURL(/\/_jitgate\/ask\?/), page.click('button[type=submit]')]);
    const requestId = new URL(page.url()).searchParams.get('id')!;
    expect(requestId).toMatch(/^r_[a-z2-7]{26}$/);

    // The bot's side filed it as /access does: the approval message in the channel, a DM to Dana.
    await stack.standin.waitFor(
      'chat.postMessage',
      (c) => c.body.channel === 'C0APPROVALS' && JSON.stringify(c.body).includes(requestId),
      10_000,
    );
    await page.waitForSelector('#ask-status[data-state="pending"]', { timeout: 10_000 });
    expect(await stack.deps.store.queries.getRequest(requestId)).toMatchObject({
      requester: dana.id,
      resource: 'grafana',
      role: 'viewer',
      durationMs: 20 * 60_000,
    });

    // Approve in Slack: a correctly signed click, as Slack sends it.
    await stack.click(alice.id, 'jit_approve', requestId);

    // The page continues by itself to where it was refused; the dashboard sees who it is.
    await page.waitForURL(`${stack.authorizerUrl}/grafana/d/errors?panel=2`, { timeout: 15_000 });
    await page.waitForSelector('#who');
    const who = await page.textContent('#who');
    expect(who).toContain(dana.email);
    expect(who).toContain(dana.id);
    const reloaded = await page.reload();
    expect(reloaded?.status()).toBe(200);
    await page.close();
  }, 60_000);
});
