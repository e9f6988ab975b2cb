/**
 * `npm run demo`: the whole jitgate flow on this machine, no Slack workspace needed. It starts a local
 * stand-in for the Slack Web API, a sample dashboard, the bot (with its worker) and the authorizer,
 * then walks through a request, its approval, access, a refusal, Revoke and the audit trail; then,
 * signed in at a local identity provider (when oidc-provider is installed), the browser's way:
 * refused, asked on the refusal page, approved in Slack, and on to the dashboard.
 * Exits 0 when every step behaved as expected. `npm run demo -- --keep` leaves it all running.
 */
import { createInterface } from 'node:readline';
import type { SlackCall } from '../dev/slack/standin.js';
import { exportAudit, verifyAudit } from '../shared/audit/chain.js';
import { loadConfig } from '../shared/config.js';
import { isJitgateError } from '../shared/errors.js';
import { connectRedis } from '../shared/redis/connect.js';
import { databaseWalkThrough, prepareDemoDatabase } from './demo/database.js';
import { plain, renderBlocks } from './demo/render.js';
import { commandLineToken, type Narrator, signedInWalkThrough } from './demo/signed-in.js';
import { DEMO_PEOPLE, type LocalStack, startLocalStack } from './demo/stack.js';

const keep = process.argv.includes('--keep');
const color = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: number) => (s: string) => (color ? `\u001b[${code}m${s}\u001b[0m` : s);
const bold = paint(1);
const dim = paint(2);
const green = paint(32);
const red = paint(31);
const say = (s = '') => process.stdout.write(`${s}\n`);
let step = 0;
const heading = (s: string) => say(`\n${bold(`${++step}. ${s}`)}`);
const ok = (s: string) => say(`   ${green('✓')} ${s}`);

class StepFailed extends Error {}
function expect(condition: unknown, what: string): asserts condition {
  if (!condition) throw new StepFailed(what);
}

const { dana, alice } = DEMO_PEOPLE;
const REDEEM = /https?:\/\/[^\s|>"]+\/_jitgate\/redeem\?code=[A-Za-z0-9_-]+/;

async function checkRedis(url: string): Promise<void> {
  const redis = connectRedis(url, { enableOfflineQueue: true, retryStrategy: () => null, lazyConnect: true });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
  } catch {
    say(red(`jitgate's demo needs Redis, and none answers at ${url}.`));
    say('Start one with:  redis-server --daemonize yes --port 6379 --save "" --appendonly no');
    say('or point REDIS_URL at yours, then run npm run demo again.');
    process.exit(1);
  } finally {
    redis.disconnect();
  }
}

function show(call: SlackCall, label: string): void {
  say(dim(`   ${label}`));
  const blocks = renderBlocks(call.body.blocks);
  say(blocks || `    │ ${plain(String(call.body.text ?? ''))}`);
}

async function curl(stack: LocalStack, args: { method?: string; path: string; token?: string }) {
  const shown = `curl${args.method ? ` -X ${args.method}` : ''}${args.token ? ' -H "Authorization: Bearer $TOKEN"' : ''} ${stack.authorizerUrl}${args.path}`;
  say(`   ${dim('$')} ${shown}`);
  const res = await fetch(`${stack.authorizerUrl}${args.path}`, {
    method: args.method ?? 'GET',
    headers: { accept: 'application/json', ...(args.token ? { authorization: `Bearer ${args.token}` } : {}) },
  });
  const body = (await res.json()) as Record<string, unknown>;
  say(dim(`   → ${res.status} ${JSON.stringify(body)}`));
  return { status: res.status, body };
}

async function walkThrough(stack: LocalStack): Promise<void> {
  const { standin } = stack;
  heading(`${dana.realName} asks for access in Slack`);
  say(`   ${dim('/access grafana/viewer 15m INC-123 checking the error-rate dashboard')}`);
  const cmd = await stack.command(dana.id, 'grafana/viewer 15m INC-123 checking the error-rate dashboard');
  expect(cmd.status === 200, `the bot acknowledged the command (got HTTP ${cmd.status})`);
  const posted = await standin.waitFor('chat.postMessage', (c) => c.body.channel === 'C0APPROVALS', 5_000);
  show(posted, 'posted in #approvals (C0APPROVALS):');
  const requestId = JSON.stringify(posted.body.blocks).match(/r_[a-z2-7]{26}/)?.[0];
  expect(requestId, 'the approval message carries the request id on its buttons');
  ok(`request ${requestId} is waiting for an approver`);

  heading(`${alice.realName} clicks Approve`);
  await stack.click(alice.id, 'jit_approve', requestId);
  const updated = await standin.waitFor(
    'chat.update',
    (c) => c.body.ts === posted.response.ts && /revoke/i.test(JSON.stringify(c.body.blocks)),
    5_000,
  );
  show(updated, 'the same message, updated in place:');
  ok('approved; the message now shows the expiry and a Revoke button');

  heading(`${dana.realName} gets a DM with a one-time redeem link`);
  const dm = await standin.waitFor('chat.postMessage', (c) => REDEEM.test(JSON.stringify(c.body)), 5_000);
  show(dm, `DM to ${dana.name}:`);
  const link = JSON.stringify(dm.body).match(REDEEM)?.[0];
  expect(link, 'the DM holds a redeem link');
  expect(!/eyJ[A-Za-z0-9_-]{10,}\./.test(standin.allText()), 'no token was ever posted into Slack');
  ok('the link is single-use and valid 10 minutes; the token itself never goes into Slack');

  const grant = stack.idp ? await commandLineToken(narrator, dm, link) : await tokenFromTerminal(link);
  const again = await fetch(link, { headers: { accept: 'application/json' } });
  expect(again.status === 410, `a second use of the link is refused (HTTP ${again.status})`);
  ok('the same link a second time: 410, already used');
  const allowed = await curl(stack, { path: '/grafana/api/dashboards', token: grant.token });
  expect(allowed.status === 200, 'GET through the authorizer succeeds');
  const who = allowed.body.who as Record<string, string> | undefined;
  expect(who?.email === dana.email && who.role === 'viewer', 'the dashboard sees who is calling');
  ok(
    `the dashboard saw X-JIT-User ${who?.user}, X-JIT-Email ${who?.email}, X-JIT-Role ${who?.role}, and a signed X-JIT-Assertion`,
  );

  heading('A method the viewer role does not allow');
  const refused = await curl(stack, { method: 'POST', path: '/grafana/api/dashboards', token: grant.token });
  expect(refused.status === 403 && refused.body.error === 'method_not_allowed', 'POST is refused with 403');
  ok(`refused: ${refused.body.message} Hint: ${refused.body.hint}`);

  heading(`${alice.realName} clicks Revoke`);
  await stack.click(alice.id, 'jit_revoke', String(grant.grantId));
  const revokedMsg = await standin.waitFor(
    'chat.update',
    (c) => c.body.ts === posted.response.ts && /revoked/i.test(JSON.stringify(c.body)),
    5_000,
  );
  show(revokedMsg, 'the approval message, final state:');
  const after = await curl(stack, { path: '/grafana/api/dashboards', token: grant.token });
  expect(after.status === 401 && after.body.error === 'grant_revoked', 'the very next request is refused');
  ok('the next request is refused at once: 401 grant_revoked');

  heading('The audit trail');
  say(`   ${dim('$')} npm run audit -- verify`);
  const verified = await verifyAudit(stack.redis, stack.keys);
  expect(verified.ok, 'the audit chain verifies');
  const types: string[] = [];
  for await (const entry of exportAudit(stack.redis, stack.keys)) types.push(entry.event.type);
  for (const t of [
    'request.created',
    'request.approved',
    'grant.issued',
    'grant.redeemed',
    'access.denied',
    'grant.revoked',
  ]) {
    expect(types.includes(t), `the audit log holds ${t}`);
  }
  ok(`hash chain intact: ${verified.entries} events (${[...new Set(types)].join(', ')})`);
}

/** The same voice for the parts that live in scripts/demo/. */
const narrator: Narrator = { heading, ok, note: (text) => say(`   ${dim(text)}`), show, expect };

type Redeemed = { token?: string; grantId?: string; expiresAt?: string };

/** Without sign-in: the link redeemed from a terminal gives the token as JSON. */
async function tokenFromTerminal(link: string): Promise<Redeemed> {
  heading('Redeem the link from a terminal, then use the service');
  say(`   ${dim('$')} TOKEN=$(curl -s -H 'Accept: application/json' '<link>' | jq -r .token)`);
  const redeemed = await fetch(link, { headers: { accept: 'application/json' } });
  const grant = (await redeemed.json()) as Redeemed;
  expect(redeemed.status === 200 && grant.token, `the redeem link gave a token (HTTP ${redeemed.status})`);
  ok(
    `token for grant ${grant.grantId}, valid until ${grant.expiresAt} (not shown: tokens are never printed)`,
  );
  return grant;
}

async function interactive(stack: LocalStack): Promise<void> {
  say(`\n${bold('Everything is still running.')} Try it by hand:`);
  say(`   authorizer   ${stack.authorizerUrl}   (curl ${stack.authorizerUrl}/_jitgate/healthz)`);
  say(`   bot          ${stack.botUrl}/slack/events`);
  say(`   dashboard    ${stack.upstream.url} (only reachable through the authorizer in real life)`);
  say(`   metrics      curl ${stack.authorizerUrl}/_jitgate/metrics`);
  say(
    `   audit        REDIS_URL=${process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'} JITGATE_REDIS_PREFIX=${stack.prefix} npm run audit -- verify`,
  );
  say('Type a Slack action below (Ctrl-C stops everything):');
  say(`   /access grafana/viewer 10m <reason>   as ${dana.name}`);
  say(`   approve <request-id> | deny <request-id> | revoke <grant-id>   as ${alice.name}`);
  const seen = new Set(stack.standin.calls.map((c) => c));
  const off = stack.standin.onCall((call) => {
    if (seen.has(call) || call.failed) return;
    const text = renderBlocks(call.body.blocks) || `    │ ${plain(String(call.body.text ?? ''))}`;
    say(dim(`\n   [slack] ${call.method} ${String(call.body.channel ?? '')}`));
    say(text);
  });
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    const [word, ...rest] = line.trim().split(/\s+/);
    if (word === '/access') void stack.command(dana.id, rest.join(' '));
    else if (word === 'approve' || word === 'deny' || word === 'revoke')
      void stack.click(alice.id, `jit_${word}`, rest[0] ?? '');
    else if (word) say('   /access …, approve <id>, deny <id> or revoke <id>');
  });
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  off();
  rl.close();
}

async function main(): Promise<number> {
  const config = loadConfig(process.env);
  await checkRedis(config.REDIS_URL);
  say(bold('jitgate demo') + dim(' — just-in-time access, approved in Slack, enforced by the authorizer'));
  const database = await prepareDemoDatabase();
  const stack = await startLocalStack({
    redisUrl: config.REDIS_URL,
    signIn: true,
    database: 'db' in database ? database.db : undefined,
  });
  say(
    dim(
      `   Slack stand-in ${stack.standin.apiUrl} · bot ${stack.botUrl} · authorizer ${stack.authorizerUrl}`,
    ),
  );
  say(
    dim(
      `   sample dashboard ${stack.upstream.url} · Redis ${config.REDIS_URL} (keys under {${stack.prefix}})`,
    ),
  );
  let code = 0;
  try {
    await walkThrough(stack);
    if (stack.idp) {
      await signedInWalkThrough(stack, narrator);
    } else {
      say(
        `\n${dim('   The signed-in part was skipped: it needs the oidc-provider package (npm install, with dev dependencies) for its local identity provider.')}`,
      );
    }
    if ('db' in database) {
      await databaseWalkThrough(stack, narrator);
    } else {
      say(`\n${dim(`   The database part was skipped: ${database.skipped}.`)}`);
    }
    say(`\n${green(bold('Every step behaved as expected.'))}`);
  } catch (err) {
    code = 1;
    const what = err instanceof StepFailed ? err.message : isJitgateError(err) ? err.message : String(err);
    say(`\n${red(`✗ step ${step} did not behave as expected: ${what}`)}`);
  }
  if (keep) await interactive(stack);
  await stack.stop();
  return code;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    say(red(`demo failed to start: ${isJitgateError(err) ? err.message : String(err)}`));
    process.exit(1);
  },
);
