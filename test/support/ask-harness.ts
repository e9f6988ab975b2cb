import type { Authorizer } from '../../authorizer/server.js';
import { TEST_TEAM_ID } from '../../dev/slack/requests.js';
import { createLogger } from '../../shared/log.js';
import { generateSigningKeySet, loadSigningKeys, type SigningKeys } from '../../shared/tokens/index.js';
import { startSystem } from '../../system/start.js';
import { type BotHarness, startBotHarness } from './bot-harness.js';
import { type Answer, CookieBrowser } from './cookie-browser.js';
import { startOidcProvider, type TestIdp, type TestUser } from './oidc-provider.js';
import { REDIS_TARGET } from './redis.js';
import { ACCESS_HOST, HOSTED_HOST } from './signin-harness.js';
import { type EchoUpstream, startEchoUpstream } from './upstreams.js';

/** People: Alice and Bob are in Slack with the address they sign in with; Carol is not in Slack. */
export const PEOPLE = {
  alice: { slack: 'U0ALICE', email: 'alice@example.com' },
  bob: { slack: 'U0BOB', email: 'bob@example.com' },
  carol: { slack: undefined, email: 'carol@example.com' },
  boss: { slack: 'U0BOSS', email: 'boss@example.com' },
} as const;

/** With Sign in with Slack, the IdP's ID tokens carry the Slack user and workspace (Carol has none). */
const idpUsers = (slack: boolean): TestUser[] =>
  (['alice', 'bob', 'carol', 'boss'] as const).map((name) => {
    const user = PEOPLE[name].slack;
    return {
      sub: `idp-${name}`,
      email: PEOPLE[name].email,
      email_verified: true,
      name,
      // The workspace the Slack stand-in's commands and clicks come from, as with Slack itself.
      ...(slack && user ? { slack: { user, team: TEST_TEAM_ID } } : {}),
    };
  });

export interface AskHarness {
  bot: BotHarness;
  idp: TestIdp;
  authorizer: Authorizer;
  keys: SigningKeys;
  echo: EchoUpstream;
  publicUrl: string;
  /** A fresh browser (its own cookie jar) for the virtual hosts. */
  browser(): CookieBrowser;
  /** A fresh browser signed in as `name` at the IdP, having opened `url` (its last answer is the refusal page). */
  signedIn(
    name: 'alice' | 'bob' | 'carol' | 'boss',
    url: string,
  ): Promise<{ b: CookieBrowser; page: string; status: number }>;
  close(): Promise<void>;
}

/**
 * Blocked, request, continue, end to end without a browser: a real bot with its worker (startSystem)
 * in front of the Slack stand-in, and an authorizer with sign-in on at a real OpenID provider,
 * queueing the requests asked for on its pages to that worker. One Redis prefix for both.
 * `grafana` is on the shared origin (pathPrefix, browser: shared-origin), `hosted` on a host of its
 * own, `quick` times out undecided in 2 s.
 */
export async function startAskHarness(options: { matchBy?: 'email' | 'slack' } = {}): Promise<AskHarness> {
  const matchBy = options.matchBy ?? 'email';
  const publicUrl = `http://${ACCESS_HOST}`;
  const [echo, keys, idp] = await Promise.all([
    startEchoUpstream(),
    generateSigningKeySet().then((set) => loadSigningKeys(JSON.stringify(set))),
    startOidcProvider({
      redirectUris: [`${publicUrl}/_jitgate/oauth2/callback`],
      users: idpUsers(matchBy === 'slack'),
    }),
  ]);
  const bot = await startBotHarness({
    policy: `
defaults: { approvalChannel: C0APPROVALS, defaultDuration: 30m, maxDuration: 2h, pendingTimeout: 20m, nudgeAfter: 10m }
resources:
  grafana:
    upstream: ${echo.url}
    match: { pathPrefix: /grafana }
    browser: shared-origin
    approvers: { users: [${PEOPLE.boss.slack}] }
    roles:
      viewer: { methods: [GET, HEAD] }
      editor: { methods: ["*"] }
  hosted:
    upstream: ${echo.url}
    match: { host: ${HOSTED_HOST} }
    approvers: { users: [${PEOPLE.boss.slack}] }
  quick:
    upstream: ${echo.url}
    match: { pathPrefix: /quick }
    browser: shared-origin
    pendingTimeout: 2s
    nudgeAfter: 1s
    approvers: { users: [${PEOPLE.boss.slack}] }
  api:
    upstream: ${echo.url}
    match: { pathPrefix: /api }
    approvers: { users: [${PEOPLE.boss.slack}] }
  guarded:
    upstream: ${echo.url}
    match: { pathPrefix: /guarded }
    approvers: { users: [${PEOPLE.boss.slack}, ${PEOPLE.bob.slack}] }
    approverStepUp: true
`,
    users: {
      [PEOPLE.alice.slack]: { email: PEOPLE.alice.email, name: 'alice' },
      [PEOPLE.bob.slack]: { email: PEOPLE.bob.email, name: 'bob' },
      [PEOPLE.boss.slack]: { email: PEOPLE.boss.email, name: 'boss' },
    },
    publicUrl,
    signIn: idp.signInConfig({ matchBy }),
  });
  const system = await startSystem({
    roles: ['authorizer'],
    overrides: {
      redisUrl: REDIS_TARGET,
      redis: bot.redis,
      prefix: bot.prefix,
      policy: bot.policy,
      signingKeys: keys,
      publicUrl,
      trustedProxies: [],
      log: createLogger('ask-test', process.env.LOG_LEVEL ?? 'silent'),
      authorizerPort: 0,
      authorizerHost: '127.0.0.1',
      authorizerTimings: { upstreamTimeoutMs: 2_000, usageFlushMs: 200, shutdownGraceMs: 500 },
      signIn: idp.signInConfig({ matchBy }),
    },
  });
  const { authorizer, port } = system.authorizer!;
  const browser = () => new CookieBrowser({ [ACCESS_HOST]: port, [HOSTED_HOST]: port });
  return {
    bot,
    idp,
    authorizer,
    keys,
    echo,
    publicUrl,
    browser,
    async signedIn(name, url) {
      const b = browser();
      idp.signInAs(`idp-${name}`);
      const { last } = await b.follow(url);
      return { b, page: last.body, status: last.status };
    },
    async close() {
      await system.stop();
      await bot.stop();
      await Promise.all([idp.close(), echo.close()]);
    },
  };
}

/** The value of a hidden or text field in a page's form. */
export function fieldOf(page: string, name: string): string {
  const m = new RegExp(`name="${name}" value="([^"]*)"`).exec(page);
  if (!m) throw new Error(`no field ${name} in the page`);
  return m[1]!
    .replace(/&amp;/g, '&')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>');
}

/** A page of the shared-origin resource, with a query, that the tests are refused at. */
export const GRAFANA = `http://${ACCESS_HOST}/grafana/d/errors?from=now-1h`;
export const ASK = `http://${ACCESS_HOST}/_jitgate/ask`;

/** The form's fields as the page rendered them, with `changes` typed over them. */
export function form(page: string, changes: Record<string, string> = {}): Record<string, string> {
  return {
    csrf: fieldOf(page, 'csrf'),
    resource: fieldOf(page, 'resource'),
    return: fieldOf(page, 'return'),
    role: 'viewer',
    duration: fieldOf(page, 'duration'),
    reason: 'INC-7 checking error rates',
    ...changes,
  };
}

/** The JSON status of the ask a waiting page (its URL) follows, read by browser `b` on `origin`. */
export async function status(
  b: CookieBrowser,
  origin: string,
  waitingUrl: string,
): Promise<Answer & { json: Record<string, unknown> }> {
  const url = new URL(waitingUrl);
  const answer = await b.get(`${origin}/_jitgate/ask/status${url.search}`, { accept: 'application/json' });
  return {
    ...answer,
    json:
      answer.status === 200 || answer.status >= 400
        ? (JSON.parse(answer.body) as Record<string, unknown>)
        : {},
  };
}
