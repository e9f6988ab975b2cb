import type { SlackCall } from '../../dev/slack/standin.js';
import { DEMO_PEOPLE, type LocalStack } from './stack.js';
import { WebClient } from './web-client.js';

/** How the demo talks: a numbered step, a check mark, a dimmed line, a Slack message, a check that must hold. */
export interface Narrator {
  heading(text: string): void;
  ok(text: string): void;
  note(text: string): void;
  show(call: SlackCall, label: string): void;
  expect(condition: unknown, what: string): asserts condition;
}

const field = (page: string, name: string) =>
  new RegExp(`name="${name}" value="([^"]*)"`).exec(page)?.[1] ?? '';
const h1 = (page: string) =>
  (/<h1>(.*?)<\/h1>/s.exec(page)?.[1] ?? '').replace(/<[^>]+>/g, '').replace(/&amp;/g, '&');

/**
 * The signed-in flow, as a browser lives it: open the dashboard, sign in at the identity provider,
 * be refused with a request form, ask on that page, an approver approves in Slack, and the page goes
 * on to the dashboard by itself. The browser is a small cookie-keeping HTTP client; what the page's
 * script does (poll the status, then go back) is done the same way here.
 */
export async function signedInWalkThrough(stack: LocalStack, n: Narrator): Promise<void> {
  const { dana, alice } = DEMO_PEOPLE;
  const idp = stack.idp!;
  const browser = new WebClient();
  const dashboard = `${stack.authorizerUrl}/grafana/d/errors`;

  n.heading(`Signed in: ${dana.realName} opens the dashboard in her browser`);
  n.note(`GET ${dashboard}  (Accept: text/html, no session yet)`);
  const refused = await browser.open(dashboard);
  n.expect(refused.url === dashboard, 'the browser came back from the IdP to the URL it asked for');
  n.ok(
    `sent to the identity provider (${idp.issuer}), signed in, and brought back to ${new URL(dashboard).pathname}`,
  );
  n.expect(refused.status === 403, `without a grant the page is refused (HTTP ${refused.status})`);
  n.ok(`${refused.status}: "${h1(refused.body)}"`);
  n.expect(refused.body.includes('name="csrf"'), 'the refusal page offers a request form');
  n.ok(
    `the page offers a form: role (viewer, editor), duration (${field(refused.body, 'duration')} by default, at most 2h), reason`,
  );

  n.heading('She asks for access on that page');
  const form = {
    csrf: field(refused.body, 'csrf'),
    resource: 'grafana',
    return: field(refused.body, 'return'),
    role: 'viewer',
    duration: '20m',
    reason: 'INC-124 error rates, from the browser',
  };
  n.note(
    `POST ${stack.authorizerUrl}/_jitgate/ask  role=viewer duration=20m reason="${form.reason}" (+ anti-forgery token, same Origin)`,
  );
  const waiting = await browser.submit(`${stack.authorizerUrl}/_jitgate/ask`, form);
  const requestId = new URL(waiting.url).searchParams.get('id');
  n.expect(
    waiting.status === 200 && requestId,
    `the form led to the page that follows the request (HTTP ${waiting.status})`,
  );
  n.ok(`request ${requestId}: the page now waits and polls /_jitgate/ask/status`);
  const posted = await stack.standin.waitFor(
    'chat.postMessage',
    (c) => c.body.channel === 'C0APPROVALS' && JSON.stringify(c.body).includes(requestId),
    10_000,
  );
  n.show(posted, 'the bot’s worker filed it like /access and posted in #approvals:');
  n.ok(
    'the authorizer queued it; the bot’s side found her in Slack by e-mail (users.lookupByEmail) and posted the approval message',
  );

  n.heading(`${alice.realName} clicks Approve in Slack`);
  await stack.click(alice.id, 'jit_approve', requestId);
  const statusUrl = `${stack.authorizerUrl}/_jitgate/ask/status${new URL(waiting.url).search}`;
  let status: Record<string, unknown> = {};
  for (let i = 0; i < 50 && status.state !== 'approved'; i++) {
    status = await browser.json(statusUrl);
    if (status.state !== 'approved') await new Promise((r) => setTimeout(r, 200));
  }
  n.expect(
    status.state === 'approved',
    `the page's status turned approved (it says ${String(status.state)})`,
  );
  n.ok(`the page reads {"state":"approved","continueTo":"${String(status.continueTo)}"}`);

  n.heading('The page continues to the dashboard by itself');
  const back = await browser.open(`${stack.authorizerUrl}${String(status.continueTo)}`);
  n.expect(back.status === 200, `the plain URL now answers 200 (HTTP ${back.status})`);
  const who = /<p id="who">(.*?)<\/p>/s.exec(back.body)?.[1]?.replace(/<[^>]+>/g, '') ?? '';
  n.expect(who.includes(dana.email) && who.includes(dana.id), 'the dashboard sees who she is');
  n.ok(
    `200, no link, no token: the dashboard says "${who}" (X-JIT-User, X-JIT-Email from her session's grant)`,
  );
}

/**
 * With sign-in on, a redeem link is its holder's only: a terminal (no session) is refused, and the
 * DM's command-line link, opened in her browser signed in (at the local IdP, as Dana), shows the token
 * once. Answers the token (never printed), its grant and its end.
 */
export async function commandLineToken(
  n: Narrator,
  dm: SlackCall,
  link: string,
): Promise<{ token: string; grantId: string | undefined; expiresAt: string | undefined }> {
  n.heading('Get a token for the command line, then use the service');
  n.note(`$ curl -s -H 'Accept: application/json' '<link>'`);
  const curled = await fetch(link, { headers: { accept: 'application/json' } });
  const refusal = (await curled.json()) as { error?: string };
  n.expect(
    curled.status === 401 && refusal.error === 'signin_required',
    `a terminal without a session is refused (HTTP ${curled.status})`,
  );
  n.ok(`refused: 401 ${refusal.error}; a forwarded link gives nobody a token, and nothing was used`);
  const cliLink = /https?:\/\/[^\s|>"]+\/_jitgate\/redeem\?code=[\w-]+&amp;for=command-line/
    .exec(JSON.stringify(dm.body))?.[0]
    ?.replace('&amp;', '&');
  n.expect(cliLink?.startsWith(link) && cliLink, 'the DM holds the command-line link');
  n.note(`she opens ${cliLink.replace(/code=[\w-]+/, 'code=…')} in her browser`);
  const page = await new WebClient().open(cliLink);
  const token = /export TOKEN=&#39;([\w.-]+)&#39;/.exec(page.body)?.[1];
  const expiresAt = /works until (\S+?),/.exec(page.body)?.[1];
  n.expect(page.status === 200 && token, `her signed-in browser was shown the token (HTTP ${page.status})`);
  const grantId = /g_[a-z2-7]{26}/.exec(JSON.stringify(dm.body))?.[0];
  n.ok(
    `signed in as ${DEMO_PEOPLE.dana.email}, the page showed the token for grant ${grantId} once, valid until ${expiresAt} (not shown: tokens are never printed)`,
  );
  return { token, grantId, expiresAt };
}
