import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { systemClock } from '../../shared/clock.js';
import { AccessStore } from '../../shared/grants/store.js';
import type { GrantId, SlackUserId } from '../../shared/ids.js';
import { createLogger } from '../../shared/log.js';
import { loadPolicy, type Policy } from '../../shared/policy/index.js';
import { connectRedis, type RedisClient } from '../../shared/redis/connect.js';
import { generateSigningKeySet, loadSigningKeys, type SigningKeys } from '../../shared/tokens/index.js';
import { type System, startSystem } from '../../system/start.js';
import {
  type CountingProxy,
  countingProxy,
  MAIN_PG,
  prepareMainDatabase,
  RO_LOGIN,
  RW_LOGIN,
  SCRATCH_PG,
  TEST_DB,
} from './postgres.js';
import { deletePrefix, REDIS_TARGET, waitReady } from './redis.js';
import { grantedToken } from './requests.js';

export const ALICE = 'U0ALICE' as SlackUserId;
export const PUBLIC_URL = 'http://127.0.0.1:8080';

export interface PgHarness {
  /** The authorizer's HTTP base URL (redeem links). */
  url: string;
  /** The gateway's address. */
  host: string;
  port: number;
  redis: RedisClient;
  store: AccessStore;
  keys: SigningKeys;
  policy: Policy;
  system: System;
  /** Counts the connections the gateway opened to the machine's PostgreSQL. */
  upstream: CountingProxy;
  /** The JSON log lines, when asked for. */
  logLines: string[];
  grant(
    resource: string,
    role?: string,
    opts?: { user?: SlackUserId; durationMs?: number },
  ): Promise<{ grantId: GrantId; expiresAt: number; token: string }>;
  /** A `pg` client config for the gateway with this token as the password. */
  client(token: string, database?: string, extra?: Partial<pg.ClientConfig>): pg.Client;
  close(): Promise<void>;
}

/**
 * An authorizer with its PostgreSQL gateway on port 0 (loopback), against the machine's PostgreSQL
 * through a connection-counting relay, and the scratch server for password logins.
 */
export async function startPgHarness(
  options: {
    tls?: { cert: string; key: string };
    startupTimeoutMs?: number;
    logLines?: boolean;
    maxStarting?: number;
    maxStartingPerClient?: number;
  } = {},
): Promise<PgHarness> {
  await prepareMainDatabase();
  const upstream = await countingProxy(MAIN_PG);
  const secrets = mkdtempSync(join(tmpdir(), 'jitgate-pg-'));
  writeFileSync(join(secrets, 'scram'), `${SCRATCH_PG.passwords.jit_scram}\n`);
  writeFileSync(join(secrets, 'md5'), SCRATCH_PG.passwords.jit_md5);
  // A CA that did not sign the scratch server's certificate (verify-full must refuse it).
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-keyout',
      join(secrets, 'other-ca.key'),
      '-out',
      join(secrets, 'other-ca.pem'),
    ],
    { stdio: 'ignore' },
  );
  const envName = `JIT_TEST_CLEAR_${randomUUID().slice(0, 8).toUpperCase()}`;
  const scratch = `postgres://${SCRATCH_PG.host}:${SCRATCH_PG.port}/postgres`;
  const policy = loadPolicy(`
defaults: { approvalChannel: C0APPROVALS, defaultDuration: 1h }
resources:
  app-db:
    kind: postgres
    upstream: postgres://127.0.0.1:${upstream.port}/${TEST_DB}
    approvers: { users: [U0BOSS] }
    roles:
      readonly: { dbUser: ${RO_LOGIN}, readOnly: true }
      readwrite: { dbUser: ${RW_LOGIN} }
  other-db:
    kind: postgres
    upstream: postgres://127.0.0.1:${upstream.port}/${TEST_DB}
    approvers: { users: [U0BOSS] }
    roles:
      readonly: { dbUser: ${RO_LOGIN}, readOnly: true }
  lan-db:
    kind: postgres
    upstream: postgres://127.0.0.1:${upstream.port}/${TEST_DB}
    approvers: { users: [U0BOSS] }
    networks: [10.0.0.0/8]
    roles:
      readonly: { dbUser: ${RO_LOGIN} }
  scram-db:
    kind: postgres
    upstream: ${scratch}
    approvers: { users: [U0BOSS] }
    roles:
      scram: { dbUser: jit_scram, passwordFile: ${join(secrets, 'scram')} }
      md5: { dbUser: jit_md5, passwordFile: ${join(secrets, 'md5')} }
      clear: { dbUser: jit_clear, passwordEnv: ${envName} }
      wrong: { dbUser: jit_scram, passwordFile: ${join(secrets, 'md5')} }
      missing: { dbUser: jit_scram, passwordFile: ${join(secrets, 'nothing-here')} }
      unset: { dbUser: jit_clear, passwordEnv: JIT_TEST_NEVER_SET }
  tls-db:
    kind: postgres
    upstream: ${scratch}?sslmode=verify-full&sslrootcert=${SCRATCH_PG.cert}
    approvers: { users: [U0BOSS] }
    roles:
      tls: { dbUser: jit_tls, passwordEnv: ${envName}_TLS }
  tls-require-db:
    kind: postgres
    upstream: ${scratch}?sslmode=require
    approvers: { users: [U0BOSS] }
    roles:
      tls: { dbUser: jit_tls, passwordEnv: ${envName}_TLS }
  tls-wrong-ca-db:
    kind: postgres
    upstream: ${scratch}?sslmode=verify-full&sslrootcert=${join(secrets, 'other-ca.pem')}
    approvers: { users: [U0BOSS] }
    roles:
      tls: { dbUser: jit_tls, passwordEnv: ${envName}_TLS }
  web:
    upstream: http://127.0.0.1:9
    match: { pathPrefix: /web }
    approvers: { users: [U0BOSS] }
`);
  const keys = await loadSigningKeys(JSON.stringify(await generateSigningKeySet()));
  const redis = connectRedis(REDIS_TARGET);
  redis.on('error', () => {});
  await waitReady(redis);
  const prefix = `t-${randomUUID().slice(0, 8)}`;
  const store = new AccessStore(redis, { prefix, clock: systemClock });
  const logLines: string[] = [];
  const system = await startSystem({
    roles: ['authorizer'],
    overrides: {
      redis,
      prefix,
      policy,
      signingKeys: keys,
      publicUrl: PUBLIC_URL,
      trustedProxies: [],
      log: options.logLines
        ? createLogger('pg-test', 'info', { write: (line: string) => void logLines.push(line) })
        : createLogger('pg-test', 'silent'),
      authorizerPort: 0,
      authorizerHost: '127.0.0.1',
      authorizerTimings: { usageFlushMs: 200, shutdownGraceMs: 500 },
      postgres: {
        port: 0,
        // With TLS, the default: every interface (the clients still connect on 127.0.0.1).
        host: options.tls ? undefined : '127.0.0.1',
        tls: options.tls,
        env: { [envName]: SCRATCH_PG.passwords.jit_clear, [`${envName}_TLS`]: SCRATCH_PG.passwords.jit_tls },
        startupTimeoutMs: options.startupTimeoutMs ?? 2_000,
        upstreamTimeoutMs: 3_000,
        maxStarting: options.maxStarting,
        maxStartingPerClient: options.maxStartingPerClient,
      },
    },
  });
  const gateway = system.authorizer!.postgres!;

  const grant = (resource: string, role?: string, opts: { user?: SlackUserId; durationMs?: number } = {}) =>
    grantedToken({ store, policy, keys, issuer: PUBLIC_URL }, resource, role, opts);

  return {
    url: system.authorizer!.url,
    host: gateway.host,
    port: gateway.port,
    redis,
    store,
    keys,
    policy,
    system,
    upstream,
    logLines,
    grant,
    client: (token, database = 'app-db', extra = {}) =>
      new pg.Client({
        host: gateway.host,
        port: gateway.port,
        user: 'alice',
        database,
        password: token,
        connectionTimeoutMillis: 5_000,
        ...extra,
      }),
    async close() {
      await system.stop();
      await upstream.close();
      await deletePrefix(redis, prefix).catch(() => {});
      redis.disconnect();
    },
  };
}

/** The audit events of the harness's prefix, oldest first. */
export async function pgAuditEvents(h: PgHarness): Promise<Record<string, unknown>[]> {
  const entries = (await h.redis.xrange(h.store.keys.auditStream, '-', '+')) as [string, string[]][];
  return entries.map(([, flat]) => JSON.parse(flat[flat.indexOf('e') + 1]!) as Record<string, unknown>);
}
