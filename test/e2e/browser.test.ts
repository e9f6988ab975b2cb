import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PEOPLE, type LocalStack, startLocalStack } from '../../scripts/demo/stack.js';
import { hasChromium, launchChromium, warnIfNoChromium } from '../support/chromium.js';
import { REDIS_TARGET } from '../support/redis.js';

warnIfNoChromium('the browser test');
const REDEEM = /https?:\/\/[^\s|>"]+\/_jitgate\/redeem\?code=[A-Za-z0-9_-]+/;

describe.runIf(hasChromium)('in a real browser', () => {
  let stack: LocalStack;
  let browser: Browser;
  beforeAll(async () => {
    stack = await startLocalStack({ redisUrl: REDIS_TARGET });
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('when the redeem link is followed, then the cookie reaches the service, and after Revoke the page says what to type', async () => {
    const { dana, alice } = DEMO_PEOPLE;
    await stack.command(dana.id, 'grafana/viewer 10m INC-9 browser check');
    const posted = await stack.standin.waitFor('chat.postMessage', (c) => c.body.channel === 'C0APPROVALS');
    const requestId = JSON.stringify(posted.body.blocks).match(/r_[a-z2-7]{26}/)![0];
    await stack.click(alice.id, 'jit_approve', requestId);
    const dm = await stack.standin.waitFor('chat.postMessage', (c) => REDEEM.test(JSON.stringify(c.body)));
    const link = JSON.stringify(dm.body).match(REDEEM)![0];

    const page = await browser.newPage();
    const response = await page.goto(link);
    expect(response?.status()).toBe(200);
    expect(new URL(page.url()).pathname).toBe('/grafana/');
    expect(await page.textContent('#who')).toContain(dana.email);
    const cookies = await page.context().cookies();
    const cookie = cookies.find((c) => c.name === 'jitgate_grafana');
    expect(cookie?.httpOnly).toBe(true);
    expect(cookie?.sameSite).toBe('Lax');
    expect(cookie?.path).toBe('/grafana');

    await page.goto(`${stack.authorizerUrl}/grafana/d/errors`);
    expect(await page.textContent('#who')).toContain('viewer');

    const grantId = `g_${requestId.slice(2)}`;
    await stack.click(alice.id, 'jit_revoke', grantId);
    await stack.standin.waitFor('chat.update', (c) => /revoked/i.test(JSON.stringify(c.body)));
    const refused = await page.goto(`${stack.authorizerUrl}/grafana/d/errors`);
    expect(refused?.status()).toBe(401);
    const body = (await page.textContent('body')) ?? '';
    expect(body).toMatch(/revoked/i);
    expect(body).toContain('/access grafana/viewer');

    // The used link, opened again, says so clearly.
    const reused = await page.goto(link);
    expect(reused?.status()).toBe(410);
    await page.close();
  }, 60_000);
});
