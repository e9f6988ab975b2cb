import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SlackUserId } from '../../shared/ids.js';
import {
  ALICE,
  auditEvents,
  eventually,
  type Harness,
  PUBLIC_URL,
  send,
  startHarness,
} from '../e2e/authorizer-harness.js';
import { type Answer, CookieBrowser } from '../support/cookie-browser.js';
import { ACCESS_HOST, type SignInHarness, startSignInHarness } from '../support/signin-harness.js';
import { countFigures } from './figures.js';

/**
 * Login CSRF by redeem link: Mallory sends Alice Mallory's own redeem link. Opened in Alice's
 * browser, it used to replace Alice's access cookie with Mallory's, silently, and what Alice then
 * did was recorded as Mallory's. Now a browser that holds another person's access is asked first
 * (a page with one button, its POST bound to a SameSite=Strict nonce and the code, from this origin
 * only); with sign-in on, the link is Mallory's alone and Alice's browser gets nothing. Redeems and
 * first uses are audited with the client's address.
 */
countFigures('attack');

const MALLORY = 'U0MALLORY' as SlackUserId;
const HOSTED = 'hosted.test.local';
const BASE = PUBLIC_URL; // http://127.0.0.1:8080, mapped to the authorizer's real port

let h: Harness;
let s: SignInHarness;
beforeAll(async () => {
  [h, s] = await Promise.all([
    startHarness({ trustedProxies: ['127.0.0.1/32'] }),
    startSignInHarness({
      users: [
        { sub: 'idp-alice', email: 'alice@example.com', email_verified: true },
        { sub: 'idp-mallory', email: 'mallory@example.com', email_verified: true },
      ],
    }),
  ]);
});
afterAll(async () => Promise.all([h?.close(), s?.close()]));

const browser = () => {
  const port = Number(new URL(h.url).port);
  return new CookieBrowser({ '127.0.0.1': port, [HOSTED]: port });
};

/** A fresh redeem link for a grant of `user` on `resource`. */
async function link(resource: string, user: SlackUserId, host = BASE): Promise<string> {
  const { grantId } = await h.grant(resource, undefined, { user });
  return `${host}/_jitgate/redeem?code=${await h.store.codes.createRedeemCode(grantId)}`;
}

/** Alice's browser after she redeemed her own `app` link (her access cookie and the holder cookie). */
async function alicesBrowser(): Promise<CookieBrowser> {
  const alice = browser();
  const { last } = await alice.follow(await link('app', ALICE));
  expect(last.status).toBe(200);
  expect(alice.cookie('127.0.0.1', 'jitgate_app')).toMatch(/^ey/);
  return alice;
}

const formField = (page: Answer, name: string) =>
  new RegExp(`name="${name}" value="([^"]*)"`).exec(page.body)?.[1] ?? '';
const REDEEM = `${BASE}/_jitgate/redeem`;

describe("attack: Mallory's redeem link in Alice's browser (no sign-in)", () => {
  it("when Alice opens Mallory's link, then she is asked first: her cookie stays, nothing is set, and Mallory's code is not used", async () => {
    const alice = await alicesBrowser();
    const before = alice.cookie('127.0.0.1', 'jitgate_app');
    const mallorys = await link('app', MALLORY);
    const page = await alice.get(mallorys);
    expect(page.status).toBe(200);
    expect(page.body).toContain('This link would replace the access in this browser');
    expect(page.body).toContain('U0MALLORY');
    expect(page.body).toContain('U0ALICE');
    expect(page.cookies.filter((c) => c.startsWith('jitgate_app') || c.startsWith('jitgate_holder'))).toEqual(
      [],
    );
    expect(alice.cookie('127.0.0.1', 'jitgate_app')).toBe(before);
    // The page cannot be framed (the button must not be clicked through another site), nor kept.
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(page.headers['cache-control']).toBe('no-store');
    // Same-origin, not no-referrer: with no-referrer a browser sends `Origin: null` with the POST.
    expect(page.headers['referrer-policy']).toBe('same-origin');
    // The code is still good: Mallory, in a browser of his own, redeems it.
    const own = await browser().follow(mallorys);
    expect(own.last.status).toBe(200);
  });

  it("when Alice's browser holds access to another shared-origin resource only, then Mallory's link for a different resource is asked about too", async () => {
    const alice = await alicesBrowser();
    const page = await alice.get(await link('other', MALLORY));
    expect(page.status).toBe(200);
    expect(page.body).toContain('confirm_redeem');
    expect(alice.cookie('127.0.0.1', 'jitgate_other')).toBeUndefined();
  });

  it("when Alice holds a host resource's access cookie from before the holder cookie existed, then Mallory's link, handed over to that host, is asked about there", async () => {
    const alice = browser();
    const { grantId, token } = await h.grant('hosted', undefined, { user: ALICE });
    expect(grantId).toBeDefined();
    alice.setCookie(HOSTED, 'jitgate_hosted', token);
    const { chain, last } = await alice.follow(await link('hosted', MALLORY));
    expect(chain[0]!.status).toBe(303);
    expect(new URL(last.url).hostname).toBe(HOSTED);
    expect(last.status).toBe(200);
    expect(last.body).toContain('This link would replace the access in this browser');
    expect(alice.cookie(HOSTED, 'jitgate_hosted')).toBe(token);
  });

  it('when Alice redeems another link of her own, then she is not asked', async () => {
    const alice = await alicesBrowser();
    const { chain } = await alice.follow(await link('app', ALICE));
    expect(chain[0]!.status).toBe(303);
    expect(chain[0]!.cookies.some((c) => c.startsWith('jitgate_app=ey'))).toBe(true);
  });

  it("when a browser holds nobody's access, then a link is redeemed at once, as before", async () => {
    const { chain } = await browser().follow(await link('app', MALLORY));
    expect(chain[0]!.status).toBe(303);
  });

  it('when Alice confirms on the page, then the access is replaced: the page said whose it is, and the holder is Mallory from then on', async () => {
    const alice = await alicesBrowser();
    const mallorys = await link('app', MALLORY);
    const page = await alice.get(mallorys);
    const done = await alice.post(REDEEM, { code: formField(page, 'code'), csrf: formField(page, 'csrf') });
    expect(done.status).toBe(303);
    expect(done.location).toBe(`${BASE}/app/`);
    const token = alice.cookie('127.0.0.1', 'jitgate_app')!;
    expect(JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).sub).toBe(MALLORY);
    expect(alice.cookie('127.0.0.1', 'jitgate_holder')).toMatch(/^U0MALLORY\./);
    // Spent: the same form again is refused (its nonce cookie is gone), and the link is "already used".
    const again = await alice.post(REDEEM, { code: formField(page, 'code'), csrf: formField(page, 'csrf') });
    expect(again.status).toBe(403);
    expect((await alice.get(mallorys)).status).toBe(410);
  });
});

describe('attack: a forged confirmation', () => {
  /** Alice's browser on the confirmation page of one of Mallory's links. */
  async function onThePage() {
    const alice = await alicesBrowser();
    const page = await alice.get(await link('app', MALLORY));
    expect(page.status).toBe(200);
    return { alice, page, code: formField(page, 'code'), csrf: formField(page, 'csrf') };
  }
  const refused = (a: Answer) => {
    expect(a.status).toBe(403);
    expect(a.cookies.filter((c) => c.startsWith('jitgate_app'))).toEqual([]);
  };

  it("when Mallory's site posts the form (cross Origin, Origin null, no Origin nor Referer, a foreign Referer), then 403 and Alice's access stays", async () => {
    const { alice, code, csrf } = await onThePage();
    const before = alice.cookie('127.0.0.1', 'jitgate_app');
    const forged: Record<string, string>[] = [
      { origin: 'https://mallory.example' },
      { origin: 'null' },
      { origin: 'http://127.0.0.1:8081' },
      { origin: 'https://127.0.0.1:8080' },
      { origin: '', referer: '' },
      { origin: '', referer: 'https://mallory.example/page' },
    ];
    for (const headers of forged) {
      refused(await alice.post(REDEEM, { code, csrf }, headers));
    }
    expect(alice.cookie('127.0.0.1', 'jitgate_app')).toBe(before);
  });

  it('when the form comes without the token, with a wrong one, with the token of another code, or without the nonce cookie (another browser), then 403', async () => {
    const { alice, code, csrf } = await onThePage();
    const other = await onThePage();
    refused(await alice.post(REDEEM, { code }));
    refused(await alice.post(REDEEM, { code, csrf: `${csrf.slice(0, -2)}xx` }));
    refused(await alice.post(REDEEM, { code, csrf: other.csrf }));
    refused(await alice.post(REDEEM, { code: other.code, csrf }));
    const elsewhere = browser();
    refused(await elsewhere.post(REDEEM, { code, csrf }));
  });

  it("when Mallory plants the confirmation through his own visit (his page's nonce and token), then Alice's browser, without that nonce, is refused", async () => {
    const mallorysOwn = browser();
    await mallorysOwn.follow(await link('app', ALICE)); // a browser holding someone else's access
    const page = await mallorysOwn.get(await link('app', MALLORY));
    const alice = await alicesBrowser();
    refused(await alice.post(REDEEM, { code: formField(page, 'code'), csrf: formField(page, 'csrf') }));
  });

  it('when the form is posted with a huge or odd body, then it is refused, not redeemed', async () => {
    const { alice, csrf } = await onThePage();
    refused(await alice.post(REDEEM, { code: 'x'.repeat(200), csrf }));
    const huge = await alice.post(REDEEM, { code: 'y'.repeat(8_000), csrf }, { accept: 'application/json' });
    expect(huge.status).toBe(400);
    expect(JSON.parse(huge.body)).toMatchObject({ error: 'input_invalid' });
  });
});

describe('attack: the redeem link with sign-in on', () => {
  it("when Alice, signed in, opens Mallory's link, then she is refused as not its holder and her own access cookie stays; there is no confirmation to forge", async () => {
    const alicesGrant = await s.grant({ resource: 'shared', role: 'viewer' });
    s.idp.signInAs('idp-alice');
    const alice = s.browser();
    await alice.follow(`http://${ACCESS_HOST}/shared/`);
    await alice.follow(
      `http://${ACCESS_HOST}/_jitgate/redeem?code=${await s.store.codes.createRedeemCode(alicesGrant.gid)}`,
    );
    const before = alice.cookie(ACCESS_HOST, 'jitgate_shared');
    expect(before).toMatch(/^ey/);
    const mallorys = await s.grant({
      requester: MALLORY,
      email: 'mallory@example.com',
      resource: 'shared',
      role: 'viewer',
    });
    const code = await s.store.codes.createRedeemCode(mallorys.gid);
    const answer = await alice.get(`http://${ACCESS_HOST}/_jitgate/redeem?code=${code}`);
    expect(answer.status).toBe(403);
    expect(answer.body).toContain('not_the_holder');
    expect(alice.cookie(ACCESS_HOST, 'jitgate_shared')).toBe(before);
    const posted = await alice.post(`http://${ACCESS_HOST}/_jitgate/redeem`, { code, csrf: 'x' });
    expect(posted.status).toBe(404);
    expect(alice.cookie(ACCESS_HOST, 'jitgate_shared')).toBe(before);
  });
});

describe('the audit names the client address', () => {
  it('when a link is redeemed behind a trusted proxy, then grant.redeemed carries the forwarded client address, and the first use of the grant carries the address that used it', async () => {
    const { grantId } = await h.grant('app', undefined, { user: ALICE });
    const code = await h.store.codes.createRedeemCode(grantId);
    const redeemed = await send(h.url, `/_jitgate/redeem?code=${code}`, {
      headers: { accept: 'application/json', 'x-forwarded-for': '203.0.113.9' },
    });
    const { token } = redeemed.json<{ token: string }>();
    await send(h.url, '/app/used', {
      headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': '198.51.100.4' },
    });
    await eventually(async () => {
      const events = (await auditEvents(h)).filter((e) => e.grantId === grantId);
      expect(events.find((e) => e.type === 'grant.redeemed')).toMatchObject({ client: '203.0.113.9' });
      expect(events.find((e) => e.type === 'access.allowed' && e.firstUse === true)).toMatchObject({
        client: '198.51.100.4',
      });
    });
  });

  it('when a browser redeems directly, then grant.redeemed carries its socket address; a spoofed X-Forwarded-For from an untrusted peer is not believed', async () => {
    const direct = await startHarness();
    try {
      const { grantId } = await direct.grant('app', undefined, { user: ALICE });
      const code = await direct.store.codes.createRedeemCode(grantId);
      await send(direct.url, `/_jitgate/redeem?code=${code}`, {
        headers: { accept: 'text/html', 'x-forwarded-for': '10.6.6.6' },
      });
      await eventually(async () => {
        const event = (await auditEvents(direct)).find(
          (e) => e.type === 'grant.redeemed' && e.grantId === grantId,
        );
        expect(event).toMatchObject({ client: '127.0.0.1' });
      });
    } finally {
      await direct.close();
    }
  });
});
