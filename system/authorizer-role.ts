import type { Redis } from 'ioredis';
import { type Authorizer, type AuthorizerDeps, createAuthorizer } from '../authorizer/server.js';
import type { Clock } from '../shared/clock.js';
import type { SignInConfig } from '../shared/config.js';
import { AccessStore } from '../shared/grants/store.js';
import { JobScheduler } from '../shared/jobs/scheduler.js';
import { auditToLog, type Logger } from '../shared/log.js';
import type { Policy } from '../shared/policy/types.js';
import { redisKeys } from '../shared/redis/keys.js';
import type { SigningKeys } from '../shared/tokens/index.js';

/** A started authorizer. */
export interface AuthorizerRole {
  authorizer: Authorizer;
  port: number;
  /** `http://host:port`, for the caller to send requests to. */
  url: string;
  /** Stops the authorizer, then closes its queue (the one requests asked for on pages go to). */
  stop(): Promise<void>;
}

/** The authorizer's timings that tests shorten (see AuthorizerDeps for the defaults). */
export type AuthorizerTimings = Pick<
  AuthorizerDeps,
  'upstreamTimeoutMs' | 'usageFlushMs' | 'shutdownGraceMs'
>;

/** Starts the identity-aware proxy on the store's connection and listens. */
export async function startAuthorizerRole(input: {
  redis: Redis;
  prefix: string;
  policy: () => Policy;
  keys: SigningKeys;
  publicUrl: string;
  trustedProxies: readonly string[];
  clock: Clock;
  log: Logger;
  port: number;
  host: string | undefined;
  timings: AuthorizerTimings;
  /** Sign-in at the proxy (signInConfig(config)); off when undefined. */
  signIn: SignInConfig | undefined;
  /** BullMQ's connection, with sign-in on: requests asked for on refusal pages are queued for the bot's side. */
  queueRedis: Redis | undefined;
}): Promise<AuthorizerRole> {
  const { log, clock } = input;
  const scheduler =
    input.signIn && input.queueRedis
      ? new JobScheduler(input.queueRedis, redisKeys(input.prefix).queuePrefix, clock, (err) =>
          log.warn({ err: err.message }, 'queue: connection error'),
        )
      : undefined;
  const store = new AccessStore(input.redis, { prefix: input.prefix, clock, auditSink: auditToLog(log) });
  const authorizer = createAuthorizer({
    publicUrl: input.publicUrl,
    trustedProxies: input.trustedProxies,
    policy: input.policy,
    store,
    redis: input.redis,
    keys: input.keys,
    clock,
    log,
    signIn: input.signIn,
    scheduler,
    ...input.timings,
  });
  // Discovery at the IdP in the background: the first browser need not wait for it.
  void authorizer.signIn?.warmUp();
  const address = await authorizer.start(input.port, input.host);
  log.info(
    { port: address.port, resources: [...input.policy().resources.keys()] },
    'jitgate authorizer started',
  );
  return {
    authorizer,
    port: address.port,
    url: address.url,
    async stop() {
      try {
        await authorizer.stop();
      } finally {
        await scheduler?.close().catch((err: unknown) => log.warn({ err }, 'queue did not close cleanly'));
      }
    },
  };
}
