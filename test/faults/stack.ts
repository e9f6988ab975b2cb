import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'bullmq';
import type { Authorizer } from '../../authorizer/server.js';
import type { Bot } from '../../bot/app.js';
import type { BotDeps, SlackRetry } from '../../bot/deps.js';
import {
  blockActionsBody,
  sendToBot,
  slashCommandBody,
  viewSubmissionBody,
} from '../../dev/slack/requests.js';
import { type SlackStandin, startSlackStandin } from '../../dev/slack/standin.js';
import { systemClock } from '../../shared/clock.js';
import { AccessStore } from '../../shared/grants/store.js';
import { createLogger } from '../../shared/log.js';
import { loadPolicy, type Policy } from '../../shared/policy/index.js';
import type { RedisClient } from '../../shared/redis/connect.js';
import { connectRedis } from '../../shared/redis/connect.js';
import { type RedisKeys, redisKeys } from '../../shared/redis/keys.js';
import type { RedisTarget } from '../../shared/redis/target.js';
import { generateSigningKeySet, loadSigningKeys, type SigningKeys } from '../../shared/tokens/index.js';
import { type Role, type System, startSystem } from '../../system/start.js';
import { deletePrefix } from '../support/redis.js';
import { type EchoUpstream, startEchoUpstream } from '../support/upstreams.js';

/**
 * A whole jitgate on one Redis of the test's choosing (the shared one, or a private redis-server a
 * fault test can stop): the Slack stand-in, an echo upstream, one policy and key set, and as many
 * bots, workers and authorizers as the test starts, all under one key prefix. Each piece can be
 * stopped (or, for a worker in a child process, killed) on its own.
 */
export interface Stack {
  redisUrl: string;
  prefix: string;
  keys: RedisKeys;
  signingKeys: SigningKeys;
  policy: Policy;
  policyFile: string;
  standin: SlackStandin;
  echo: EchoUpstream;
  secret: string;
  botToken: string;
  /** A store on a connection of the test's own, for looking at the state. */
  store: AccessStore;
  redis: RedisClient;
  startBot(options?: { worker?: boolean; retry?: SlackRetry }): Promise<BotNode>;
  startWorker(): Promise<WorkerNode>;
  /** `npm run start:worker` in a child process, ready when it has connected. */
  spawnWorker(): Promise<ChildWorker>;
  startAuthorizer(): Promise<AuthorizerNode>;
  /** Redeems a one-time link through an authorizer: the access token. */
  redeem(authorizerUrl: string, redeemUrl: string): Promise<string>;
  close(): Promise<void>;
}

export interface BotNode {
  baseUrl: string;
  deps: BotDeps;
  bot: Bot;
  /** `/access <text>` from `user`; answers the response_url id its replies go to. */
  command(user: string, text: string): Promise<{ status: number; replyId: string }>;
  click(user: string, actionId: string, value: string): Promise<{ status: number }>;
  deny(user: string, requestId: string, reason: string): Promise<{ status: number }>;
  stop(): Promise<void>;
}

export interface WorkerNode {
  worker: Worker;
  stop(): Promise<void>;
}

export interface ChildWorker {
  process: ChildProcess;
  kill(): Promise<void>;
}

export interface AuthorizerNode {
  url: string;
  authorizer: Authorizer;
  stop(): Promise<void>;
}

/** Bot-side retries that wait milliseconds, so that a 5xx storm does not slow the suite (429s still wait Retry-After). */
export const FAST_RETRY: SlackRetry = { retries: 3, minMs: 20, maxMs: 100 };

export const FAULT_POLICY = (echoUrl: string) => `
defaults:
  approvalChannel: C0APPROVALS
  defaultDuration: 1h
  maxDuration: 8h
  pendingTimeout: 30m
  nudgeAfter: 10m
  reminderBefore: 1m
admins: { users: [U0ADMIN] }
resources:
  app:
    upstream: ${echoUrl}
    match: { pathPrefix: /app }
    approvers: { users: [U0ALICE, U0CAROL, U0DAVE] }
  pair:
    upstream: ${echoUrl}
    match: { pathPrefix: /pair }
    approvers: { users: [U0ALICE, U0CAROL, U0DAVE] }
    approvalsRequired: 2
  quick:
    upstream: ${echoUrl}
    match: { pathPrefix: /quick }
    approvers: { users: [U0ALICE] }
    pendingTimeout: 2s
    nudgeAfter: 1s
`;

const silent = () => createLogger('fault-test', process.env.LOG_LEVEL ?? 'silent');

/** The environment that names `target` to a child process (`npm run start:worker`). */
function redisEnv(target: RedisTarget): Record<string, string> {
  const list = (nodes: { host: string; port: number }[]) => nodes.map((n) => `${n.host}:${n.port}`).join(',');
  switch (target.kind) {
    case 'single':
      return { REDIS_URL: target.url };
    case 'cluster':
      return { REDIS_URL: target.url, REDIS_CLUSTER_NODES: list(target.nodes) };
    case 'sentinel':
      return {
        REDIS_URL: target.url,
        REDIS_SENTINELS: list(target.sentinels),
        REDIS_SENTINEL_MASTER: target.master,
        REDIS_CLUSTER_NODES: '',
      };
  }
}

/** On one Redis (a URL), or on a cluster or Sentinel's master (a target). */
export async function startStack(redisAt: string | RedisTarget): Promise<Stack> {
  const target: RedisTarget = typeof redisAt === 'string' ? { kind: 'single', url: redisAt } : redisAt;
  const redisUrl = target.url;
  const prefix = `t-${randomUUID().slice(0, 8)}`;
  const keys = redisKeys(prefix);
  const botToken = `xoxb-test-${randomBytes(8).toString('hex')}`;
  const secret = randomBytes(16).toString('hex');
  const standin = await startSlackStandin({ unknownUsers: 'derived', tokens: [botToken] });
  const echo = await startEchoUpstream();
  const policyText = FAULT_POLICY(echo.url);
  const policy = loadPolicy(policyText, 'the fault policy');
  const dir = mkdtempSync(join(tmpdir(), 'jitgate-fault-'));
  const policyFile = join(dir, 'policy.yml');
  writeFileSync(policyFile, policyText);
  const keySet = JSON.stringify(await generateSigningKeySet());
  const signingKeys = await loadSigningKeys(keySet);
  const redis = connectRedis(target);
  redis.on('error', () => {});
  const store = new AccessStore(redis, { prefix, clock: systemClock });
  const stops: (() => Promise<void>)[] = [];

  /** One process's worth of jitgate on this stack's Redis, prefix, policy, keys and Slack. */
  async function start(roles: Role[], retry: SlackRetry = FAST_RETRY): Promise<System> {
    const system = await startSystem({
      roles,
      overrides: {
        redisUrl: target,
        prefix,
        policy,
        signingKeys,
        slack: { botToken, signingSecret: secret },
        slackApiUrl: standin.apiUrl,
        slackRetry: retry,
        publicUrl: 'http://127.0.0.1:8080',
        log: silent(),
        botPort: 0,
        authorizerPort: 0,
        authorizerHost: '127.0.0.1',
        authorizerTimings: { upstreamTimeoutMs: 2_000, usageFlushMs: 200, shutdownGraceMs: 1_000 },
      },
    });
    stops.push(() => system.stop());
    return system;
  }

  async function startBot(options: { worker?: boolean; retry?: SlackRetry } = {}): Promise<BotNode> {
    const system = await start(options.worker ? ['bot', 'worker'] : ['bot'], options.retry);
    const deps = system.deps!;
    const { bot, url: baseUrl } = system.bot!;
    const stop = () => system.stop();
    let seq = 0;
    return {
      baseUrl,
      deps,
      bot,
      async command(user, text) {
        seq += 1;
        const replyId = `${user}-${seq}-${randomBytes(3).toString('hex')}`;
        const body = slashCommandBody({ userId: user, text, responseUrl: standin.responseUrl(replyId) });
        const res = await sendToBot(baseUrl, { body, secret });
        await res.arrayBuffer();
        return { status: res.status, replyId };
      },
      async click(user, actionId, value) {
        const body = blockActionsBody({ userId: user, actionId, value, messageTs: '1700000000.000100' });
        const res = await sendToBot(baseUrl, { body, secret });
        await res.arrayBuffer();
        return { status: res.status };
      },
      async deny(user, requestId, reason) {
        const body = viewSubmissionBody({
          userId: user,
          callbackId: 'jit_deny_reason',
          values: { jit_deny_reason: { reason } },
          privateMetadata: requestId,
        });
        const res = await sendToBot(baseUrl, { body, secret });
        await res.arrayBuffer();
        return { status: res.status };
      },
      stop,
    };
  }

  async function startOneWorker(): Promise<WorkerNode> {
    const system = await start(['worker']);
    return { worker: system.worker!, stop: () => system.stop() };
  }

  async function spawnWorker(): Promise<ChildWorker> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bot/worker-main.ts'], {
      cwd: process.cwd(),
      env: {
        ...process.env,
        ...redisEnv(target),
        JITGATE_REDIS_PREFIX: prefix,
        JITGATE_POLICY: policyFile,
        JITGATE_PUBLIC_URL: 'http://127.0.0.1:8080',
        SLACK_BOT_TOKEN: botToken,
        SLACK_API_URL: standin.apiUrl,
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stderr?.resume();
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(
        () => reject(new Error(`the worker did not start: ${out.slice(-500)}`)),
        20_000,
      );
      child.stdout?.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.includes('jitgate worker started')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the worker exited with ${code}: ${out.slice(-500)}`));
      });
    });
    child.stdout?.resume();
    const kill = async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGKILL');
      await exited;
    };
    stops.push(kill);
    return { process: child, kill };
  }

  async function startOneAuthorizer(): Promise<AuthorizerNode> {
    const system = await start(['authorizer']);
    const { url, authorizer } = system.authorizer!;
    return { url, authorizer, stop: () => system.stop() };
  }

  return {
    redisUrl,
    prefix,
    keys,
    signingKeys,
    policy,
    policyFile,
    standin,
    echo,
    secret,
    botToken,
    store,
    redis,
    startBot,
    startWorker: startOneWorker,
    spawnWorker,
    startAuthorizer: startOneAuthorizer,
    async redeem(authorizerUrl, redeemUrl) {
      const code = new URL(redeemUrl).searchParams.get('code');
      const res = await fetch(`${authorizerUrl}/_jitgate/redeem?code=${code}`, {
        headers: { accept: 'application/json' },
      });
      if (res.status !== 200) throw new Error(`redeem answered ${res.status}: ${await res.text()}`);
      return ((await res.json()) as { token: string }).token;
    },
    async close() {
      for (const stop of stops.reverse()) await stop().catch(() => {});
      await deletePrefix(redis, prefix).catch(() => {});
      redis.disconnect();
      await standin.close().catch(() => {});
      await echo.close().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The redeem link in the last DM to `user`, waiting for it. */
export async function redeemLinkFor(stack: Stack, user: string, timeoutMs = 8_000): Promise<string> {
  const dm = await stack.standin.waitFor(
    'chat.postMessage',
    (c) => c.body.channel === `D${user.slice(1)}` && /_jitgate\/redeem\?code=/.test(JSON.stringify(c.body)),
    timeoutMs,
  );
  const m = /https?:\/\/[^\s"|>]+_jitgate\/redeem\?code=[A-Za-z0-9_-]+/.exec(JSON.stringify(dm.body));
  if (!m) throw new Error('no redeem link in the DM');
  return m[0];
}

/** The request id in the approval message posted for `user`'s request with `marker` in its reason. */
export async function requestIdFor(stack: Stack, marker: string, timeoutMs = 8_000): Promise<string> {
  const posted = await stack.standin
    .waitFor(
      'chat.postMessage',
      (c) => c.body.channel === 'C0APPROVALS' && JSON.stringify(c.body).includes(marker),
      timeoutMs,
    )
    .catch((err: Error) => {
      // Say what the bot answered instead: the replies are where a refusal shows.
      const replies = stack.standin.callsTo('response_url').map((c) => String(c.body.text));
      // And what was posted, where: a message in the wrong place or without the marker shows here.
      const posts = stack.standin
        .callsTo('chat.postMessage')
        .map((c) => `${String(c.body.channel)}: ${JSON.stringify(c.body).slice(0, 300)}`);
      throw new Error(
        `no approval message for "${marker}"; last replies: ${JSON.stringify(replies.slice(-3))}; posts: ${JSON.stringify(posts.slice(-3))}\n${err.message}`,
      );
    });
  const m = /\br_[a-z2-7]{26}\b/.exec(JSON.stringify(posted.body));
  if (!m) throw new Error('no request id in the approval message');
  return m[0];
}

/** DMs to `user` whose text or blocks match `pattern`. */
export function dmsMatching(stack: Stack, user: string, pattern: RegExp) {
  return stack.standin
    .callsTo('chat.postMessage')
    .filter((c) => c.body.channel === `D${user.slice(1)}` && pattern.test(JSON.stringify(c.body)));
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
