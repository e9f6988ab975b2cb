import { randomBytes } from 'node:crypto';
import { Cluster } from 'ioredis';
import type { Bot } from '../../bot/app.js';
import type { BotDeps, SlackRetry } from '../../bot/deps.js';
import { requestIdIn } from '../../dev/slack/reply-ids.js';
import type { Clock } from '../../shared/clock.js';
import type { SignInConfig } from '../../shared/config.js';
import { createLogger, type Logger } from '../../shared/log.js';
import { loadPolicy } from '../../shared/policy/index.js';
import type { Policy } from '../../shared/policy/types.js';
import type { RedisClient } from '../../shared/redis/connect.js';
import type { RedisKeys } from '../../shared/redis/keys.js';
import { startSystem } from '../../system/start.js';
import { REDIS_TARGET, testRedis } from './redis.js';

export { grantIdIn, requestIdIn } from '../../dev/slack/reply-ids.js';

import {
  appHomeOpenedBody,
  type BlockActionInput,
  blockActionsBody,
  type SendToBotInput,
  sendToBot,
  slashCommandBody,
  type ViewInputValue,
  viewSubmissionBody,
} from '../../dev/slack/requests.js';
import type { SocketModeStandin } from '../../dev/slack/socket-mode.js';
import {
  type SlackCall,
  type SlackStandin,
  type StandinUser,
  startSlackStandin,
} from '../../dev/slack/standin.js';
import { type Delivered, httpDriver, type SlackTransport, socketDriver } from './slack-driver.js';

export { type SlackTransport, TRANSPORTS } from './slack-driver.js';

export interface BotHarnessOptions {
  /** The public URL the bot builds links with (default http://127.0.0.1:8080). */
  publicUrl?: string;
  /** Sign-in is on at the authorizer: DMs give plain URLs, approverStepUp gives confirmation links. */
  signIn?: SignInConfig;
  /** The policy as YAML text. */
  policy: string;
  /** People the stand-in's users.info knows (others get a default profile). */
  users?: Record<string, StandinUser>;
  /** User groups for usergroups.users.list. */
  usergroups?: Record<string, string[]>;
  /** Run the BullMQ worker in the bot (default true). */
  worker?: boolean;
  /** Web API retries; the default waits milliseconds, not seconds (429s still honour Retry-After). */
  slackRetry?: SlackRetry;
  clock?: Clock;
  /** The workspace auth.test names (default: T0TEAM, in no Enterprise Grid org). */
  workspace?: { teamId?: string; enterpriseId?: string; enterpriseInstall?: boolean };
  /** auth.test fails this many times first (the bot asks at start, then for each delivery until it answers). */
  authTestFailures?: number;
  /** Logger for the bot (default: silent unless LOG_LEVEL is set). */
  log?: Logger;
  /** How long Bolt waits for an ack before answering 404 itself (default: Bolt's 3 s, as in production). */
  unhandledRequestTimeoutMs?: number;
  /**
   * How Slack reaches the bot: signed HTTP requests (the default) or Socket Mode, where the stand-in
   * hands out the WebSocket and delivers every command, click, submission and event in an envelope.
   */
  transport?: SlackTransport;
  /** Socket Mode: every n-th envelope arrives twice (default 1: every one, so each test also checks that nothing acts twice). */
  duplicateEvery?: number;
  /** Socket Mode: an envelope not acknowledged this long is sent again (default 3 s, as Slack). */
  redeliverAfterMs?: number;
  /** Socket Mode: the app-level token the bot is given, when it should not be the one the stand-in takes. */
  botAppToken?: string;
}

/** What a slash command got back: the HTTP ack, and what the bot posted to its response_url afterwards. */
export interface CommandResult {
  status: number;
  /** The text of the ack's body ('' for an empty ack). */
  ack: string;
  responseUrl: string;
  /** The first message the bot sent to this command's response_url (waits for it). */
  reply(timeoutMs?: number): Promise<string>;
  /** Every message sent to this command's response_url so far. */
  replies(): string[];
}

export interface BotHarness {
  standin: SlackStandin;
  transport: SlackTransport;
  /** Socket Mode's side of the stand-in (connections, envelopes, acks); undefined over HTTP. */
  socket: SocketModeStandin | undefined;
  /** The bot's base URL (`/slack/events` under it over HTTP; `/_jitgate/healthz` either way). */
  baseUrl: string;
  secret: string;
  botToken: string;
  prefix: string;
  keys: RedisKeys;
  redis: RedisClient;
  deps: BotDeps;
  bot: Bot;
  policy: Policy;
  /** `/access <text>` typed by `userId`, correctly signed. */
  command(
    userId: string,
    text: string,
    options?: { channelId?: string; teamId?: string; headers?: Record<string, string> },
  ): Promise<CommandResult>;
  /** A button click (block_actions) by `userId`; in the approval channel unless said otherwise. */
  click(
    userId: string,
    actionId: string,
    value: string,
    options?: Partial<BlockActionInput> & { headers?: Record<string, string> },
  ): Promise<{ status: number }>;
  /** A modal submission; answers the ack's JSON (`response_action: 'errors'` …) or null for an empty ack. */
  submitView(
    userId: string,
    callbackId: string,
    values: Record<string, Record<string, ViewInputValue>>,
    options?: { privateMetadata?: string },
  ): Promise<{ status: number; json: unknown }>;
  /** `app_home_opened` for `userId`. */
  openHome(
    userId: string,
    options?: { eventId?: string; headers?: Record<string, string> },
  ): Promise<{ status: number }>;
  /** Any body, signed with the bot's secret unless `signature` is given (HTTP only). */
  send(input: Omit<SendToBotInput, 'secret'> & { secret?: string }): Promise<Response>;
  /** Ephemeral messages (chat.postEphemeral) shown to `userId`, oldest first. */
  ephemeralsTo(userId: string): string[];
  waitForEphemeral(userId: string, pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Messages the bot posted into its DM with `userId` (text and blocks as JSON). */
  dmsTo(userId: string): SlackCall[];
  waitForDm(userId: string, pattern: RegExp, timeoutMs?: number): Promise<SlackCall>;
  /**
   * The approval message of a request as it stands now: the last chat.postMessage or chat.update
   * outside DMs that carries the request id (its `ts` stays the same across updates).
   */
  approvalMessage(requestId: string): Promise<SlackCall | undefined>;
  /** Files a request with a one-line `/access` and answers its id once the approval message is out. */
  fileRequest(userId: string, text: string): Promise<{ requestId: string; reply: string }>;
  /** Every Redis key of a request under this harness's prefix, sorted (SCAN returns them in no order). */
  requestKeys(): Promise<string[]>;
  stop(): Promise<void>;
}

const FAST_RETRY: SlackRetry = { retries: 3, minMs: 10, maxMs: 50 };
/** Socket Mode in tests: pongs within 1.5 s, and so a reconnect 1.5 s after a disconnect (not 5 s). */
const SOCKET_PING_TIMEOUT_MS = 1500;

/**
 * A real bot (`startSystem`, as `npm run start:bot` starts it) on port 0 in front of the Slack stand-in and a real Redis under a key
 * prefix of its own, with the worker, driven by correctly signed HTTP requests exactly as Slack sends
 * them, or (`transport: 'socket'`) over Socket Mode, in envelopes on the WebSocket the bot opened.
 * Used by the bot's e2e tests, the demo and the security suites.
 *
 * @example
 *   const h = await startBotHarness({ policy: POLICY_YAML });
 *   const cmd = await h.command('U0BOB', 'grafana 1h INC-1');
 *   expect(await cmd.reply()).toMatch(/approvers have been asked/);
 *   await h.stop();
 */
export async function startBotHarness(options: BotHarnessOptions): Promise<BotHarness> {
  const transport = options.transport ?? 'http';
  const botToken = `xoxb-test-${randomBytes(8).toString('hex')}`;
  const appToken = `xapp-1-A0JITGATE-${randomBytes(8).toString('hex')}`;
  // Only the bot's token is accepted, and people not named get a profile made from their id.
  const standin = await startSlackStandin({
    unknownUsers: 'derived',
    tokens: [botToken],
    ...(options.workspace ?? {}),
    ...(transport === 'socket'
      ? {
          socketMode: {
            appToken,
            duplicateEvery: options.duplicateEvery ?? 1,
            ...(options.redeliverAfterMs !== undefined ? { redeliverAfterMs: options.redeliverAfterMs } : {}),
          },
        }
      : {}),
  });
  for (const [id, user] of Object.entries(options.users ?? {})) standin.setUser(id, user);
  if (options.authTestFailures)
    standin.failNext('auth.test', { error: 'invalid_auth' }, options.authTestFailures);
  for (const [id, members] of Object.entries(options.usergroups ?? {})) standin.setUsergroup(id, members);

  const test = await testRedis();
  const policy = loadPolicy(options.policy, 'the test policy');
  const secret = randomBytes(16).toString('hex');
  // A bot that does not start leaves nothing behind (the stand-in, the Redis keys).
  const system = await startSystem({
    roles: options.worker === false ? ['bot'] : ['bot', 'worker'],
    overrides: {
      redis: test.redis,
      redisUrl: REDIS_TARGET,
      prefix: test.prefix,
      policy,
      slack: {
        botToken,
        signingSecret: secret,
        ...(transport === 'socket' ? { appToken: options.botAppToken ?? appToken } : {}),
      },
      slackApiUrl: standin.apiUrl,
      slackRetry: options.slackRetry ?? FAST_RETRY,
      publicUrl: options.publicUrl ?? 'http://127.0.0.1:8080',
      ...(options.signIn ? { signIn: options.signIn } : {}),
      log: options.log ?? createLogger('bot-test', process.env.LOG_LEVEL ?? 'silent'),
      botPort: 0,
      botUnhandledRequestTimeoutMs: options.unhandledRequestTimeoutMs,
      botSocketPingTimeoutMs: SOCKET_PING_TIMEOUT_MS,
      ...(options.clock ? { clock: options.clock } : {}),
    },
  }).catch(async (err: unknown) => {
    await test.cleanup();
    await standin.close();
    throw err;
  });
  const deps = system.deps!;
  const bot = system.bot!.bot;
  const baseUrl = system.bot!.url;
  let seq = 0;

  const send: BotHarness['send'] = (input) => {
    if (transport === 'socket') throw new Error('send() signs HTTP requests; the bot is in Socket Mode');
    return sendToBot(baseUrl, { ...input, secret: input.secret ?? secret });
  };
  const driver = standin.socketMode ? socketDriver(standin.socketMode) : httpDriver(baseUrl, secret);
  const textOf = (call: SlackCall) => String(call.body.text ?? '');
  const dmChannel = (userId: string) => `D${userId.slice(1)}`;

  const harness: BotHarness = {
    standin,
    transport,
    socket: standin.socketMode,
    baseUrl,
    secret,
    botToken,
    prefix: test.prefix,
    keys: test.keys,
    redis: test.redis,
    deps,
    bot,
    policy,
    async command(userId, text, opts = {}) {
      seq += 1;
      const id = `cmd-${seq}-${randomBytes(3).toString('hex')}`;
      const responseUrl = standin.responseUrl(id);
      const body = slashCommandBody({
        userId,
        text,
        responseUrl,
        ...(opts.channelId ? { channelId: opts.channelId } : {}),
        ...(opts.teamId ? { teamId: opts.teamId } : {}),
      });
      const res = await driver.deliver('command', body, opts.headers);
      const ack = ackText(res);
      const mine = (c: SlackCall) => c.path === `/respond/${encodeURIComponent(id)}`;
      return {
        status: res.status,
        ack,
        responseUrl,
        async reply(timeoutMs = 5000) {
          return textOf(await standin.waitFor('response_url', mine, timeoutMs));
        },
        replies: () => standin.callsTo('response_url').filter(mine).map(textOf),
      };
    },
    async click(userId, actionId, value, opts = {}) {
      const { headers, ...input } = opts;
      const body = blockActionsBody({ messageTs: '1700000000.000100', ...input, userId, actionId, value });
      const res = await driver.deliver('interaction', body, headers);
      return { status: res.status };
    },
    async submitView(userId, callbackId, values, opts = {}) {
      const body = viewSubmissionBody({
        userId,
        callbackId,
        values,
        ...(opts.privateMetadata !== undefined ? { privateMetadata: opts.privateMetadata } : {}),
      });
      const res = await driver.deliver('interaction', body);
      return { status: res.status, json: res.json };
    },
    async openHome(userId, opts = {}) {
      const body = appHomeOpenedBody({ userId, ...(opts.eventId ? { eventId: opts.eventId } : {}) });
      const res = await driver.deliver('event', body, opts.headers);
      return { status: res.status };
    },
    send,
    ephemeralsTo: (userId) =>
      standin
        .callsTo('chat.postEphemeral')
        .filter((c) => c.body.user === userId)
        .map(textOf),
    async waitForEphemeral(userId, pattern, timeoutMs = 5000) {
      const call = await standin.waitFor(
        'chat.postEphemeral',
        (c) => c.body.user === userId && pattern.test(textOf(c)),
        timeoutMs,
      );
      return textOf(call);
    },
    dmsTo: (userId) =>
      standin.callsTo('chat.postMessage').filter((c) => c.body.channel === dmChannel(userId)),
    waitForDm: (userId, pattern, timeoutMs = 5000) =>
      standin.waitFor(
        'chat.postMessage',
        (c) => c.body.channel === dmChannel(userId) && pattern.test(JSON.stringify(c.body)),
        timeoutMs,
      ),
    async approvalMessage(requestId) {
      const ref = (await deps.store.queries.getRequest(requestId))?.message;
      if (!ref) return undefined;
      return standin.calls
        .filter(
          (c) =>
            !c.failed &&
            ((c.method === 'chat.postMessage' && c.response.ts === ref.ts) ||
              (c.method === 'chat.update' && c.body.ts === ref.ts && c.body.channel === ref.channel)),
        )
        .at(-1);
    },
    async fileRequest(userId, text) {
      const cmd = await harness.command(userId, text);
      const reply = await cmd.reply();
      const requestId = requestIdIn(reply);
      await standin.waitFor('chat.postMessage', (c) => JSON.stringify(c.body).includes(requestId));
      return { requestId, reply };
    },
    async requestKeys() {
      return scanKeys(test.redis, test.keys.request('*'));
    },
    async stop() {
      await system.stop();
      await test.cleanup();
      await standin.close();
    },
  };
  return harness;
}

/** The text of a command's ack: its `text` when it is a message, else the body as it came. */
function ackText(res: Delivered): string {
  const json = res.json as { text?: unknown } | null;
  return json && typeof json === 'object' && typeof json.text === 'string' ? json.text : res.text;
}

async function scanKeys(redis: RedisClient, pattern: string): Promise<string[]> {
  const found: string[] = [];
  // On a cluster every key of the prefix is on one master (its hash tag); SCAN looks at one node.
  for (const node of redis instanceof Cluster ? redis.nodes('master') : [redis]) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      found.push(...keys);
    } while (cursor !== '0');
  }
  // SCAN's order follows the hash table, which changes as keys come and go: sort, so that two scans
  // of the same keys compare equal.
  return found.sort();
}

/**
 * A policy that exercises every path of the Slack surface: multi-party approval, self-approval,
 * break-glass, auto-approval, a user-group approver, a resource only some may request.
 */
export const BOT_TEST_POLICY = `
defaults:
  approvalChannel: C0APPROVALS
  defaultDuration: 1h
  maxDuration: 8h
  pendingTimeout: 30m
  nudgeAfter: 10m
  approvalsRequired: 1
  selfApproval: false
  reminderBefore: 5m
admins: { users: [U0ADMIN] }
resources:
  grafana:
    description: Production Grafana
    upstream: http://127.0.0.1:3001
    match: { pathPrefix: /grafana }
    approvers: { users: [U0ALICE, U0CAROL], usergroups: [S0SRE] }
    maxDuration: 4h
    roles:
      viewer: { methods: [GET, HEAD] }
      editor: { methods: ["*"], paths: ["/api/**"] }
  db:
    description: Production database console
    upstream: http://127.0.0.1:3002
    match: { pathPrefix: /db }
    approvers: { users: [U0ALICE, U0CAROL, U0DAVE] }
    approvalsRequired: 2
  staging:
    description: Staging tools
    upstream: http://127.0.0.1:3003
    match: { pathPrefix: /staging }
    approvers: { users: [U0BOB, U0ALICE] }
    selfApproval: true
  admin-api:
    description: Internal admin API
    upstream: http://127.0.0.1:3004
    match: { host: admin.access.example.com }
    approvers: { usergroups: [S0SRE] }
    maxDuration: 1h
    breakGlass: true
  wiki:
    description: Internal wiki admin
    upstream: http://127.0.0.1:3005
    match: { pathPrefix: /wiki }
    approvers: { users: [U0ALICE] }
    autoApprove: { users: [U0ONCALL] }
  vault:
    description: Secrets UI
    upstream: http://127.0.0.1:3006
    match: { pathPrefix: /vault }
    approvers: { users: [U0ALICE] }
    requesters: { users: [U0CAROL] }
`;

/** The user group that approves grafana and admin-api in BOT_TEST_POLICY. */
export const BOT_TEST_USERGROUPS = { S0SRE: ['U0SRE1', 'U0SRE2'] };

/** The buttons of a recorded message or view, as `{ action_id, value, url }`, in block order. */
export function buttonsOf(
  body: Record<string, unknown>,
): { action_id: string; value?: string; url?: string }[] {
  const found: { action_id: string; value?: string; url?: string }[] = [];
  const visit = (node: unknown) => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== 'object') return;
    const n = node as Record<string, unknown>;
    if (n.type === 'button' && typeof n.action_id === 'string') {
      found.push({
        action_id: n.action_id,
        ...(typeof n.value === 'string' ? { value: n.value } : {}),
        ...(typeof n.url === 'string' ? { url: n.url } : {}),
      });
    }
    Object.values(n).forEach(visit);
  };
  visit(body.blocks ?? body.view ?? body);
  return found;
}
