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
