import { type AddressInfo, createServer, type Socket } from 'node:net';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { Clock } from '../../shared/clock.js';
import type { AccessStore } from '../../shared/grants/store.js';
import type { Logger } from '../../shared/log.js';
import type { Policy } from '../../shared/policy/index.js';
import type { AccessTokenVerifier } from '../../shared/tokens/index.js';
import { clientResolver } from '../checks/client-address.js';
import { isLive } from '../checks/grant.js';
import type { Metrics } from '../metrics.js';
import type { RefusalRecorder } from '../refusal-records.js';
import type { UsageRecorder } from '../usage.js';
import { postgresChecks } from './checks.js';
import type { GatewayAddress } from './connect-info.js';
import { handleConnection } from './connection.js';
import { protocolViolation } from './errors.js';
import { auditRefusal, openSession } from './session.js';
import { type CutReason, createSessionRegistry } from './sessions.js';

/** The PostgreSQL listener's settings (JITGATE_POSTGRES_*). */
export interface PostgresGatewayOptions {
  /** PEM certificate and key: TLS offered and required. Without them the listener must be on loopback, or `plaintext` allowed. */
  tls?: { cert: string | Buffer; key: string | Buffer } | undefined;
  /** Accept clients without TLS on a non-loopback listener (behind a TLS-terminating proxy, say). */
  plaintext?: boolean | undefined;
  /** The authorizer's environment, where `passwordEnv` logins are read. */
  env: Readonly<Record<string, string | undefined>>;
  /** A client's whole startup and login (default 10 s); a silent connection is closed after it. */
  startupTimeoutMs?: number | undefined;
  /** The upstream's connect and login (default 10 s). */
  upstreamTimeoutMs?: number | undefined;
  /** Connections still logging in at once (default 1000); more are refused at once. */
  maxStarting?: number | undefined;
  /** The same from one client address (default 100), so that one address's flood leaves room for everyone else. */
  maxStartingPerClient?: number | undefined;
  /** Bytes of each statement's text written to the log (default 2048). */
  maxStatementLog?: number | undefined;
}

export interface PostgresGatewayDeps extends PostgresGatewayOptions {
  policy: () => Policy;
  verifier: AccessTokenVerifier;
  store: Pick<AccessStore, 'queries' | 'transitions'>;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  usage: UsageRecorder;
  /** Where refusals before login go (counted; audited only when they name a real grant). */
  refusals: Pick<RefusalRecorder, 'refused'>;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/**
 * The PostgreSQL gateway: a listener in the authorizer process that lets people in with their
 * access token as the password, runs the same checks as the HTTP path, then logs in to the
 * database with the role's login and relays. Sessions end with their grant (revoke, expiry).
 *
 * @example const pg = createPostgresGateway({ ...deps, env: process.env }); await pg.start(6432, '127.0.0.1');
 */
export function createPostgresGateway(deps: PostgresGatewayDeps) {
  const { log, clock } = deps;
  const tls: SecureContext | undefined = deps.tls ? createSecureContext(deps.tls) : undefined;
  const registry = createSessionRegistry({
    now: () => clock.now(),
    stillLive: async (grantId) => {
      const grant = await deps.store.queries.liveGrant(grantId);
      return grant && isLive(grant, clock.now()) ? grant.expiresAt : undefined;
    },
  });
  const maxStarting = deps.maxStarting ?? 1000;
  const maxPerClient = deps.maxStartingPerClient ?? 100;
  let starting = 0;
  const startingBy = new Map<string, number>();
  /** Connections not logged in yet (a stop closes them; sessions are ended with a message). */
  const startingSockets = new Set<Socket>();

  const connection = {
    policy: deps.policy,
    checks: postgresChecks({
      policy: deps.policy,
      verifier: deps.verifier,
      store: deps.store.queries,
      clock,
    }),
    resolveClient: clientResolver([]),
    tls,
    tlsRequired: tls !== undefined,
    env: deps.env,
    startupTimeoutMs: deps.startupTimeoutMs ?? 10_000,
    upstreamTimeoutMs: deps.upstreamTimeoutMs ?? 10_000,
    refused: auditRefusal({ refusals: deps.refusals, metrics: deps.metrics }),
    cancel: (pid: number, secret: number) => {
      if (!registry.cancel(pid, secret)) log.info({ pid }, 'postgres: cancel request with an unknown key');
    },
    opened: openSession({
      registry,
      store: deps.store,
      usage: deps.usage,
      metrics: deps.metrics,
      log,
      clock,
      maxStatement: deps.maxStatementLog ?? 2048,
    }),
    log,
  };

  const server = createServer({ noDelay: true }, (socket) => {
    const from = socket.remoteAddress ?? '';
    const fromThere = startingBy.get(from) ?? 0;
    if (starting >= maxStarting || fromThere >= maxPerClient) {
      socket.on('error', () => socket.destroy());
      socket.end(protocolViolation('too many connections are logging in; retry in a moment'));
      setTimeout(() => socket.destroy(), 1_000).unref();
      return;
    }
    starting += 1;
    startingBy.set(from, fromThere + 1);
    startingSockets.add(socket);
    void handleConnection(socket, connection).finally(() => {
      starting -= 1;
      const left = (startingBy.get(from) ?? 1) - 1;
      if (left === 0) startingBy.delete(from);
      else startingBy.set(from, left);
      startingSockets.delete(socket);
    });
  });
  server.on('error', (err) => log.error({ err }, 'postgres listener error'));

  /** The message for a session that jitgate ends: who revoked it, when it expired. */
  async function why(grantId: string, reason: CutReason): Promise<CutReason> {
    if (reason.why !== 'revoked') return reason;
    try {
      const request = await deps.store.queries.getRequestOfGrant(grantId as never);
      if (request?.grantStatus === 'expired') return { why: 'expired' };
      return { why: 'revoked', by: request?.endedBy };
    } catch {
      return reason;
    }
  }

  let listening: AddressInfo | undefined;
  return {
    registry,
    /** Where people reach it: the public URL's host, the port it listens on, and whether TLS is on. */
    address(publicUrl: string): GatewayAddress | undefined {
      if (!listening) return undefined;
      return {
        host: new URL(publicUrl).hostname.replace(/^\[|\]$/g, ''),
        port: listening.port,
        tls: tls !== undefined,
      };
    },
    /** Refuses to start without TLS on a non-loopback address unless plaintext is allowed. */
    /**
     * Listens on `host`; without one, on every interface when TLS is on (or plaintext allowed),
     * else on 127.0.0.1.
     */
    async start(port: number, host?: string): Promise<AddressInfo> {
      const open = tls !== undefined || deps.plaintext === true;
      if (host === undefined && !open) host = '127.0.0.1';
      if (!open && !LOOPBACK.test(host ?? '')) {
        throw new Error(
          `the PostgreSQL gateway would listen on ${host} without TLS: set JITGATE_POSTGRES_TLS_CERT and JITGATE_POSTGRES_TLS_KEY (or JITGATE_POSTGRES_PLAINTEXT=on behind a TLS-terminating proxy)`,
        );
      }
      return new Promise<AddressInfo>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          listening = server.address() as AddressInfo;
          resolve(listening);
        });
      });
    },
    /**
     * Ends every session of a grant (from the revocations channel: a revoke, or an expiry the
     * worker carried out), saying who revoked it or that it expired.
     */
    async closeGrant(grantId: string): Promise<number> {
      if (!registry.grants().includes(grantId)) return 0;
      return registry.cutGrant(grantId, await why(grantId, { why: 'revoked' }));
    },
    /** After the revocations subscriber reconnects: re-checks the grants with open sessions. */
    async recheck(): Promise<void> {
      for (const grantId of registry.grants()) {
        try {
          const grant = await deps.store.queries.liveGrant(grantId);
          if (!isLive(grant, clock.now())) registry.cutGrant(grantId, await why(grantId, { why: 'revoked' }));
        } catch (err) {
          log.warn({ err, grantId }, 'could not re-check a grant with open PostgreSQL sessions');
        }
      }
    },
    async stop(): Promise<void> {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      registry.cutAll({ why: 'shutdown' });
      for (const s of startingSockets) s.destroy();
      await closed;
    },
  };
}

export type PostgresGateway = ReturnType<typeof createPostgresGateway>;
