import { readFileSync } from 'node:fs';
import type { PostgresGatewayOptions } from '../authorizer/postgres/gateway.js';
import { type Authorizer, type AuthorizerDeps, createAuthorizer } from '../authorizer/server.js';
import type { Clock } from '../shared/clock.js';
import type { SignInConfig } from '../shared/config.js';
import { AccessStore } from '../shared/grants/store.js';
import { JobScheduler } from '../shared/jobs/scheduler.js';
import { auditToLog, type Logger } from '../shared/log.js';
import type { Policy } from '../shared/policy/types.js';
import type { RedisClient } from '../shared/redis/connect.js';
import { redisKeys } from '../shared/redis/keys.js';
import type { SigningKeys } from '../shared/tokens/index.js';

/** A started authorizer. */
export interface AuthorizerRole {
  authorizer: Authorizer;
  port: number;
  /** `http://host:port`, for the caller to send requests to. */
  url: string;
  /** Where the PostgreSQL gateway listens, when it is on. */
  postgres?: { host: string; port: number } | undefined;
  /** Stops the authorizer, then closes its queue (the one requests asked for on pages go to). */
  stop(): Promise<void>;
}

/** The authorizer's timings that tests shorten (see AuthorizerDeps for the defaults). */
export type AuthorizerTimings = Pick<
  AuthorizerDeps,
  'upstreamTimeoutMs' | 'usageFlushMs' | 'shutdownGraceMs'
>;

/** The PostgreSQL gateway's listener (JITGATE_POSTGRES_*, or a test's). */
export interface PostgresListener extends Omit<PostgresGatewayOptions, 'tls' | 'env'> {
  port: number;
  /** Default: every interface with TLS or plaintext allowed, else 127.0.0.1. */
  host?: string | undefined;
  /** PEM texts, or paths of files holding them. */
  tls?: { cert: string; key: string } | undefined;
  /** Where `passwordEnv` logins are read (default: this process's environment). */
  env?: Readonly<Record<string, string | undefined>> | undefined;
}

/** A PEM given as text, or the path of a file holding it. */
function pem(value: string, name: string): string {
  if (value.includes('-----BEGIN')) return value;
  try {
    return readFileSync(value, 'utf8');
  } catch (err) {
    throw new Error(`${name}: cannot read ${value} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
}

/** Starts the identity-aware proxy on the store's connection and listens. */
export async function startAuthorizerRole(input: {
  redis: RedisClient;
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
  queueRedis: RedisClient | undefined;
  /** The PostgreSQL gateway; off when undefined. */
  postgres?: PostgresListener | undefined;
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
    postgres: input.postgres
      ? {
          ...input.postgres,
          tls: input.postgres.tls
            ? {
                cert: pem(input.postgres.tls.cert, 'JITGATE_POSTGRES_TLS_CERT'),
                key: pem(input.postgres.tls.key, 'JITGATE_POSTGRES_TLS_KEY'),
              }
            : undefined,
          env: input.postgres.env ?? process.env,
        }
      : undefined,
  });
  // Discovery at the IdP in the background: the first browser need not wait for it.
  void authorizer.signIn?.warmUp();
  const address = await authorizer.start(input.port, input.host);
  let postgres: AuthorizerRole['postgres'];
  if (authorizer.postgres && input.postgres) {
    const pg = await authorizer.postgres
      .start(input.postgres.port, input.postgres.host)
      .catch(async (err: unknown) => {
        // Nothing half-started stays behind: the HTTP listener closes too.
        await authorizer.stop();
        await scheduler?.close().catch(() => {});
        throw err;
      });
    postgres = {
      host: pg.address === '::' || pg.address === '0.0.0.0' ? '127.0.0.1' : pg.address,
      port: pg.port,
    };
    log.info(
      { port: pg.port, host: pg.address, tls: input.postgres.tls !== undefined },
      'jitgate PostgreSQL gateway started',
    );
  }
  log.info(
    { port: address.port, resources: [...input.policy().resources.keys()] },
    'jitgate authorizer started',
  );
  return {
    authorizer,
    port: address.port,
    url: address.url,
    postgres,
    async stop() {
      try {
        await authorizer.stop();
      } finally {
        await scheduler?.close().catch((err: unknown) => log.warn({ err }, 'queue did not close cleanly'));
      }
    },
  };
}
