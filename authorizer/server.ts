import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Clock } from '../shared/clock.js';
import type { SignInConfig } from '../shared/config.js';
import { liveGrantReads } from '../shared/grants/live-grant-reads.js';
import type { AccessStore } from '../shared/grants/store.js';
import type { JobScheduler } from '../shared/jobs/scheduler.js';
import type { Logger } from '../shared/log.js';
import type { Policy } from '../shared/policy/index.js';
import { duplicateOf, type RedisClient } from '../shared/redis/connect.js';
import {
  createAccessTokenVerifier,
  createAssertionSigner,
  type SigningKeys,
} from '../shared/tokens/index.js';
import { accessLog } from './access-log.js';
import { registerApprovals } from './approvals/routes.js';
import { createAsks } from './ask/index.js';
import { clientResolver } from './checks/client-address.js';
import { isLive } from './checks/grant.js';
import { httpChecks } from './checks/http.js';
import { forwardAuthFirst } from './forward-auth/route.js';
import { signInUrls } from './forward-auth/sign-in.js';
import { createFront } from './front.js';
import { createGate } from './gate.js';
import { createSignIn, endedSessionOf } from './identity/index.js';
import { createMetrics } from './metrics.js';
import { createPostgresGateway, type PostgresGatewayOptions } from './postgres/gateway.js';
import { createConnectionRegistry, type EndReason } from './proxy/connections.js';
import { publicAddresses } from './proxy/public-address.js';
import { createUpgradeHandler } from './proxy/upgrade.js';
import { createUpstreams } from './proxy/upstream.js';
import { createRefusalRecorder } from './refusal-records.js';
import { refuseSocket, sendRefusal } from './refusal-response.js';
import { refusal } from './refusals.js';
import { subscribeRevocations } from './revocations.js';
import { registerOps } from './routes/ops.js';
import { prefixSlash } from './routes/prefix-slash.js';
import { proxiedRequests } from './routes/proxied.js';
import { registerRedeem } from './routes/redeem.js';
import { refusalPages } from './routes/refusal-pages.js';
import { createUsageRecorder } from './usage.js';

export interface AuthorizerDeps {
  /** JITGATE_PUBLIC_URL: the token issuer. */
  publicUrl: string;
  /** JITGATE_TRUSTED_PROXIES: CIDRs whose X-Forwarded-For is believed. */
  trustedProxies: readonly string[];
  policy: () => Policy;
  store: AccessStore;
  /** For readiness; the store's connection. */
  redis: RedisClient;
  /** A new connection for the revocations subscription (default: `redis.duplicate()`). */
  subscriber?: () => RedisClient;
  keys: SigningKeys;
  clock: Clock;
  log: Logger;
  /** Upstream silence before 504 (default 30 s). */
  upstreamTimeoutMs?: number;
  /** How often grant use counts are written (default 5 s). */
  usageFlushMs?: number;
  /** How long stop() lets in-flight requests finish (default 10 s). */
  shutdownGraceMs?: number;
  /** Sign-in at the proxy (signInConfig(config)); off when undefined. */
  signIn?: SignInConfig | undefined;
  /**
   * With sign-in: where requests asked for on refusal pages go to the bot's side, and where the
   * holder of a redeem link someone else opened is told (a queue; the authorizer holds no Slack
   * token). Without it, signed-in people are refused as before, with no form, and a refused redeem
   * is only audited and logged.
   */
  scheduler?: Pick<JobScheduler, 'askFiled' | 'redeemRefused' | 'approvalConfirmed'> | undefined;
  /** The PostgreSQL gateway's settings (JITGATE_POSTGRES_*); off when undefined. */
  postgres?: PostgresGatewayOptions | undefined;
}

/**
 * The authorizer: an identity-aware proxy in front of the policy's resources. Only wiring here.
 *
 * @example
 *   const authorizer = createAuthorizer({ publicUrl, trustedProxies: [], policy: () => policy, store, redis, keys, clock, log });
 *   const { url } = await authorizer.start(8080);
 */
export function createAuthorizer(deps: AuthorizerDeps) {
  const { log, clock } = deps;
  const metrics = createMetrics({ countActiveGrants: () => deps.store.queries.countActiveGrants(), log });
  const usage = createUsageRecorder({ store: deps.store, log, clock, flushEveryMs: deps.usageFlushMs });
  const connections = createConnectionRegistry({
    clock,
    metrics,
    log,
    // At the expiry an open connection knew: an extended grant keeps it.
    expiryOf: async (grantId) => {
      const grant = await deps.store.queries.liveGrant(grantId);
      return isLive(grant, clock.now()) ? grant.expiresAt : undefined;
    },
  });
  const refusals = createRefusalRecorder({
    redis: deps.redis,
    keys: deps.store.keys,
    store: deps.store,
    clock,
    log,
    metrics,
  });
  const publicAddress = publicAddresses(deps.publicUrl);
  const upstreams = createUpstreams({
    timeoutMs: deps.upstreamTimeoutMs ?? 30_000,
    publicAddress,
    metrics,
    log,
  });
  const verifier = createAccessTokenVerifier({ keys: deps.keys, issuer: deps.publicUrl, clock });
  const assertions = createAssertionSigner({ keys: deps.keys, issuer: deps.publicUrl, clock });
  const signIn = deps.signIn
    ? createSignIn({
        config: deps.signIn,
        publicUrl: deps.publicUrl,
        keys: deps.keys,
        clock,
        redis: deps.redis,
        redisKeys: deps.store.keys,
        policy: deps.policy,
        log,
      })
    : undefined;

  const postgres = deps.postgres
    ? createPostgresGateway({
        ...deps.postgres,
        policy: deps.policy,
        verifier,
        store: deps.store,
        clock,
        log,
        metrics,
        usage,
        refusals,
      })
    : undefined;

  const resolveClient = clientResolver(deps.trustedProxies);
  // The per-request grant read: one HMGET each, those of concurrent requests in one pipeline.
  const grantReads = liveGrantReads(deps.redis, deps.store.keys);
  const gate = createGate({
    checks: httpChecks({
      policy: deps.policy,
      verifier,
      store: grantReads,
      clock,
      signIn: signIn ? { openSession: signIn.openSession, store: deps.store.queries } : undefined,
    }),
    resolveClient,
    publicAddress,
    assertions,
    metrics,
    usage,
    refusals,
    log,
  });

  const asks =
    signIn && deps.scheduler
      ? createAsks({
          liveSessionOf: signIn.liveSessionOf,
          store: deps.store,
          scheduler: deps.scheduler,
          policy: deps.policy,
          keys: deps.keys,
          publicUrl: deps.publicUrl,
          clock,
          log,
        })
      : undefined;

  // Express for jitgate's own routes (and, with sign-in on, refused pages); proxied requests never enter it.
  const pages =
    signIn || asks
      ? refusalPages({ sendToSignIn: signIn?.sendToSignIn, offerRequest: asks?.offer })
      : undefined;
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  if (pages) app.use(pages.middleware);
  const ops = express.Router();
  registerOps(ops, { redis: deps.redis, metrics, keys: deps.keys });
  registerRedeem(ops, {
    store: deps.store,
    policy: deps.policy,
    keys: deps.keys,
    clock,
    publicUrl: deps.publicUrl,
    log,
    resolveClient,
    verifier,
    binding: signIn
      ? { signIn, store: deps.store, jobs: deps.scheduler, policy: deps.policy, resolveClient, clock, log }
      : undefined,
    postgresAt: postgres ? () => postgres.address(deps.publicUrl) : undefined,
  });
  signIn?.register(ops);
  asks?.register(ops);
  if (signIn && deps.scheduler) {
    registerApprovals(ops, {
      liveSessionOf: signIn.liveSessionOf,
      startStepUp: signIn.startStepUp,
      store: deps.store,
      scheduler: deps.scheduler,
      keys: deps.keys,
      publicUrl: deps.publicUrl,
      clock,
      log,
    });
  }
  app.use(ops);
  app.use('/_jitgate', (req: Request, res: Response) =>
    sendRefusal(res, refusal('no_such_resource'), req.headers.accept),
  );
  app.use(prefixSlash(deps.policy));
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    // A form body too large or malformed (express's body parsers): the client's mistake, not ours.
    const status = (err as { status?: unknown } | undefined)?.status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      log.info({ status, path: req.path }, 'request body refused');
      sendRefusal(
        res,
        refusal('input_invalid', {}, 'The form sent is too large or malformed.'),
        req.headers.accept,
      );
      return;
    }
    log.error({ err }, 'request failed');
    sendRefusal(res, refusal('internal_error'), req.headers.accept);
  });
  // Anything Express was handed and no route answered (none expected): refused, never proxied.
  app.use((req: Request, res: Response) => sendRefusal(res, refusal('no_such_resource'), req.headers.accept));

  const front = createFront({
    // /_jitgate/auth is every request's ask in forward-auth mode: answered before Express.
    express: forwardAuthFirst(
      { gate, resolveClient, signInUrl: signIn ? signInUrls(deps.publicUrl, deps.policy) : undefined, log },
      app,
    ),
    proxied: proxiedRequests({
      gate,
      upstreams,
      connections,
      refusalPage: pages ? (req, res, refused) => pages.answer(app, req, res, refused) : undefined,
    }),
    policy: deps.policy,
    refusals,
    logRequest: accessLog(log, metrics),
    log,
  });

  const server = createServer(front);
  server.on('upgrade', createUpgradeHandler({ gate, upstreams, connections, accessEnded, log }));
  // CONNECT (authority-form) is never proxied.
  server.on('connect', (req, socket) =>
    refuseSocket(socket, refusal('bad_path', {}, 'CONNECT is not accepted.'), req.headers.accept),
  );

  const revocations = subscribeRevocations({
    subscriber: deps.subscriber ? deps.subscriber() : duplicateOf(deps.redis),
    channel: deps.store.keys.revocations,
    onRevoked: (message) => {
      const sid = endedSessionOf(message);
      if (sid === undefined) {
        connections.closeGrant(message, 'revoked');
        void postgres?.closeGrant(message);
      } else connections.closeSession(sid);
    },
    onReconnect: () => {
      void recheckOpenConnections();
      void postgres?.recheck();
    },
    log,
  });

  /** Why a grant's access (or its session) has ended, read from Redis; undefined while live. */
  async function accessEnded(grantId: string, sid: string | undefined): Promise<EndReason | undefined> {
    const grant = await deps.store.queries.liveGrant(grantId);
    if (grant?.status === 'revoked') return 'revoked';
    if (!isLive(grant, clock.now())) return 'expired';
    if (sid !== undefined && (await deps.redis.get(deps.store.keys.sessionEnded(sid))) !== null) {
      return 'signed out';
    }
    return undefined;
  }

  /** After a reconnect: revocations published while we were away were missed, so ask again. */
  async function recheckOpenConnections(): Promise<void> {
    for (const grantId of connections.grants()) {
      try {
        const grant = await deps.store.queries.liveGrant(grantId);
        if (!isLive(grant, clock.now())) connections.closeGrant(grantId);
      } catch (err) {
        log.warn({ err, grantId }, 'could not re-check a grant with open connections');
      }
    }
    for (const sid of connections.sessions()) {
      try {
        if ((await deps.redis.get(deps.store.keys.sessionEnded(sid))) !== null) connections.closeSession(sid);
      } catch (err) {
        log.warn({ err }, 'could not re-check a session with open connections');
      }
    }
  }

  let stopping: Promise<void> | undefined;
  return {
    app,
    server,
    /** Sign-in (sessionOf and the logout check), when configured. */
    signIn,
    /** The PostgreSQL gateway, when configured (started by its own `start`). */
    postgres,
    /** Listens (port 0 picks a free one) and resolves with the address. */
    start(port = 0, host?: string): Promise<AddressInfo & { url: string }> {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const address = server.address() as AddressInfo;
          const h = address.family === 'IPv6' ? `[${address.address}]` : address.address;
          resolve({
            ...address,
            url: `http://${h === '[::]' || h === '0.0.0.0' ? '127.0.0.1' : h}:${address.port}`,
          });
        });
      });
    },
    /** Stops taking requests, lets in-flight ones finish (bounded), closes sockets, timers and the subscriber. */
    stop(): Promise<void> {
      stopping ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        connections.closeWebSockets();
        const pgStopped = postgres?.stop();
        const grace = setTimeout(() => server.closeAllConnections(), deps.shutdownGraceMs ?? 10_000);
        await closed;
        clearTimeout(grace);
        await pgStopped;
        connections.stop();
        await Promise.all([usage.stop(), refusals.stop()]);
        await revocations.close();
        upstreams.close();
      })();
      return stopping;
    },
  };
}

export type Authorizer = ReturnType<typeof createAuthorizer>;
