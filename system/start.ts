import type { Worker } from 'bullmq';
import type { BotDeps, SlackRetry } from '../bot/deps.js';
import { type Clock, systemClock } from '../shared/clock.js';
import { type Config, postgresListenerConfig, type SignInConfig, signInConfig } from '../shared/config.js';
import type { FileWatchTimings } from '../shared/file-watch.js';
import { type LivePolicy, livePolicy } from '../shared/lifecycle.js';
import { createLogger, type Logger } from '../shared/log.js';
import type { Policy } from '../shared/policy/types.js';
import type { RedisClient } from '../shared/redis/connect.js';
import { type RedisKeys, redisKeys } from '../shared/redis/keys.js';
import { type RedisTarget, redisTarget } from '../shared/redis/target.js';
import type { SigningKeys } from '../shared/tokens/index.js';
import {
  type AuthorizerRole,
  type AuthorizerTimings,
  type PostgresListener,
  startAuthorizerRole,
} from './authorizer-role.js';
import type { BotRole, SlackSide } from './bot-role.js';
import { openConnections } from './connections.js';
import { preflight, type SlackCredentials } from './preflight.js';

/** What a process can run: the Slack bot, the BullMQ worker, the identity-aware proxy. */
export type Role = 'bot' | 'worker' | 'authorizer';

/**
 * What tests, the demo and the bench set instead of the configuration. Each one left out comes from
 * the config (the environment of DESIGN.md).
 */
export interface SystemOverrides {
  /** The store's connection, lent by the caller (never closed by `stop`). BullMQ's is opened on `redisUrl`. */
  redis?: RedisClient;
  /** Instead of the Redis the configuration names (REDIS_URL, REDIS_CLUSTER_NODES, REDIS_SENTINELS): a URL or a target. */
  redisUrl?: string | RedisTarget;
  /** Instead of JITGATE_REDIS_PREFIX. */
  prefix?: string;
  /**
   * A policy object (then `reloadPolicy` has nothing to re-read) or a file path, instead of
   * JITGATE_POLICY. A file is followed: a change takes effect without a restart.
   */
  policy?: Policy | string;
  /** How the policy file is followed (default: 300 ms of quiet after a change, a comparison every 10 s). */
  policyWatch?: FileWatchTimings;
  /** Instead of JITGATE_SIGNING_KEYS. */
  signingKeys?: SigningKeys;
  /** Instead of SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET and SLACK_APP_TOKEN. */
  slack?: SlackCredentials;
  /** Instead of SLACK_API_URL (the local stand-in). */
  slackApiUrl?: string;
  /** Web API retries (tests wait milliseconds, not seconds). */
  slackRetry?: SlackRetry;
  /** Instead of JITGATE_PUBLIC_URL. */
  publicUrl?: string;
  clock?: Clock;
  /** Instead of a JSON logger at LOG_LEVEL. */
  log?: Logger;
  /** Instead of BOT_PORT (0 picks a free one). */
  botPort?: number;
  /** HTTP mode: how long Bolt waits for a listener's ack before answering 404 itself (default: Bolt's). */
  botUnhandledRequestTimeoutMs?: number | undefined;
  /** Socket Mode: the pong timeout, also the pause before reconnecting (default: @slack/socket-mode's 5 s). */
  botSocketPingTimeoutMs?: number | undefined;
  /** Instead of AUTHORIZER_PORT (0 picks a free one). */
  authorizerPort?: number;
  /** Instead of JITGATE_TRUSTED_PROXIES. */
  trustedProxies?: readonly string[];
  /** The authorizer's listening address (default: every interface). */
  authorizerHost?: string;
  authorizerTimings?: AuthorizerTimings;
  /** Sign-in at the proxy instead of the JITGATE_OIDC_* settings. */
  signIn?: SignInConfig;
  /** The PostgreSQL gateway instead of the JITGATE_POSTGRES_* settings (port 0 picks a free one). */
  postgres?: PostgresListener;
}

export interface SystemOptions {
  /** Which roles run in this process; 'bot' with 'worker' runs the worker beside the bot. */
  roles: readonly Role[];
  /**
   * The environment: the entry files pass `process.env`, whose problems are then reported together
   * with those of the Slack credentials, the keys and the policy.
   */
  env?: Record<string, string | undefined>;
  /** Or the parsed environment (default: DESIGN.md's defaults, as `loadConfig({})` gives them). */
  config?: Config;
  overrides?: SystemOverrides;
}

/** A started system. Installs no signal handlers: the caller owns the process. */
export interface System {
  log: Logger;
  /** The configuration it started with. */
  config: Config;
  /** The store's connection (the caller's when lent). */
  redis: RedisClient;
  prefix: string;
  keys: RedisKeys;
  policy: () => Policy;
  /** What the bot and the worker share (store, scheduler, use cases, Slack client); set with either role. */
  deps: BotDeps | undefined;
  bot: BotRole | undefined;
  worker: Worker | undefined;
  authorizer: AuthorizerRole | undefined;
  /**
   * Re-reads the policy file now (SIGHUP); a bad file is reported and the current policy stays
   * (false). Changes to the file are taken without it too: the file is watched.
   */
  reloadPolicy(): boolean;
  /**
   * Stops once: no new work (the bot and the authorizer finish what they hold), then the worker, the
   * queue, and the Redis connections this system opened.
   */
  stop(): Promise<void>;
}

/**
 * Starts any set of roles from a parsed configuration: the one place where jitgate is wired up. The
 * entry files, the demo, the test harnesses and the bench all start through it. Checks come first
 * (Slack credentials, then signing keys, then the policy), so a misconfigured process fails before
 * it opens anything, with every problem of the environment, the Slack credentials, the keys and the
 * policy reported at once (`preflight`); the authorizer starts before the bot.
 *
 * @example
 *   const system = await startSystem({ roles: ['bot', 'worker'], env: process.env });
 *   handleSignals(system.log, { stop: system.stop, reload: system.reloadPolicy });
 */
export async function startSystem(options: SystemOptions): Promise<System> {
  const roles = new Set(options.roles);
  const o = options.overrides ?? {};
  const checked = await preflight({
    roles,
    overrides: o,
    ...(options.config ? { config: options.config } : { env: options.env ?? {} }),
  });
  const { config, slack, signingKeys } = checked;
  const slackSide = roles.has('bot') || roles.has('worker');

  const log = o.log ?? createLogger(loggerName(roles), config.LOG_LEVEL);
  // Several roles in one process: each one's lines say which.
  const logOf = (role: string) =>
    roles.has('authorizer') && roles.size > 1 ? log.child({ component: role }) : log;
  const policySource = policyFrom(o.policy ?? config.JITGATE_POLICY, checked.policy, log, o.policyWatch);
  const policy = policySource.current;

  const prefix = o.prefix ?? config.JITGATE_REDIS_PREFIX;
  const publicUrl = o.publicUrl ?? config.JITGATE_PUBLIC_URL;
  const clock = o.clock ?? systemClock;
  const signIn = roles.has('authorizer') ? (o.signIn ?? signInConfig(config)) : undefined;
  const connections = openConnections({
    target:
      typeof o.redisUrl === 'string'
        ? { kind: 'single', url: o.redisUrl }
        : (o.redisUrl ?? redisTarget(config)),
    borrowed: o.redis,
    // With sign-in, the authorizer queues requests asked for on its pages for the bot's side.
    queue: slackSide || signIn !== undefined,
    log,
  });
  let authorizer: AuthorizerRole | undefined;
  let side: SlackSide | undefined;
  const stopRoles = async () => {
    policySource.stop();
    const stopped = await Promise.allSettled([side?.stop(), authorizer?.stop()]);
    await connections.close();
    const failed = stopped.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  };

  try {
    if (roles.has('authorizer') && signingKeys) {
      authorizer = await startAuthorizerRole({
        redis: connections.redis,
        prefix,
        policy,
        keys: signingKeys,
        publicUrl,
        trustedProxies: o.trustedProxies ?? config.JITGATE_TRUSTED_PROXIES,
        clock,
        log: logOf('authorizer'),
        port: o.authorizerPort ?? config.AUTHORIZER_PORT,
        host: o.authorizerHost,
        timings: o.authorizerTimings ?? {},
        signIn,
        queueRedis: connections.queueRedis,
        postgres: o.postgres ?? postgresListenerConfig(config),
      });
    }
    if (slack && connections.queueRedis) {
      // Loaded only where the Slack side runs: an authorizer process never loads Bolt.
      const { startSlackSide } = await import('./bot-role.js');
      side = await startSlackSide({
        bot: roles.has('bot'),
        worker: roles.has('worker'),
        redis: connections.redis,
        queueRedis: connections.queueRedis,
        prefix,
        policy,
        publicUrl,
        slack,
        apiUrl: o.slackApiUrl ?? config.SLACK_API_URL,
        retry: o.slackRetry,
        clock,
        log: logOf('bot'),
        port: o.botPort ?? config.BOT_PORT,
        unhandledRequestTimeoutMs: o.botUnhandledRequestTimeoutMs,
        socketPingTimeoutMs: o.botSocketPingTimeoutMs,
        signIn: (o.signIn ?? signInConfig(config)) !== undefined,
      });
    }
  } catch (err) {
    await stopRoles().catch(() => {});
    throw err;
  }

  let stopping: Promise<void> | undefined;
  return {
    log,
    config,
    redis: connections.redis,
    prefix,
    keys: redisKeys(prefix),
    policy,
    deps: side?.deps,
    bot: side?.bot,
    worker: side?.worker,
    authorizer,
    reloadPolicy: policySource.reload,
    stop() {
      stopping ??= stopRoles();
      return stopping;
    },
  };
}

/** The name on every log line: the role when it runs alone, `bot` beside its worker, else `jitgate`. */
function loggerName(roles: ReadonlySet<Role>): string {
  if (roles.size === 1) return [...roles][0]!;
  return roles.has('authorizer') ? 'jitgate' : 'bot';
}

/** The policy file, re-read on demand; or a policy object, which has nothing to re-read. */
function policyFrom(
  source: Policy | string,
  loaded: Policy | undefined,
  log: Logger,
  timings: FileWatchTimings | undefined,
): LivePolicy {
  if (typeof source === 'string') return livePolicy(source, log, loaded, timings);
  return { current: () => source, reload: () => false, stop: () => {} };
}
