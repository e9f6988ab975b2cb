import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { type SecureContext, TLSSocket } from 'node:tls';
import type { Policy, Resource, Role } from '../../shared/policy/index.js';
import type { ClientResolver } from '../checks/client-address.js';
import { type Authorized, type Check, isAuthorized, outOfOrder } from '../checks/context.js';
import { runChecks } from '../checks/run.js';
import { type Refusal, refusal } from '../refusals.js';
import type { PostgresAccess } from './checks.js';
import { postgresAccess } from './checks.js';
import { dbPassword } from './credentials.js';
import { protocolViolation, refusalMessage } from './errors.js';
import {
  askForPassword,
  errorResponse,
  MAX_PASSWORD_LENGTH,
  negotiateProtocolVersion,
  parseStartup,
  type StartupParams,
} from './protocol.js';
import { ClientGone, PacketSource, ProtocolViolation } from './source.js';
import { loginUpstream, type UpstreamSession } from './upstream-login.js';

/** Startup parameters passed on to the database as the client sent them; every other one is left out. */
const PASSED_ON = new Set([
  'application_name',
  'client_encoding',
  'DateStyle',
  'TimeZone',
  'IntervalStyle',
  'extra_float_digits',
  'search_path',
  'lc_messages',
  'datestyle',
  'timezone',
]);

/** What one connection needs from the gateway (see gateway.ts, which builds it once). */
export interface ConnectionDeps {
  policy: () => Policy;
  checks: readonly Check<PostgresAccess>[];
  resolveClient: ClientResolver;
  /** Offered to clients that ask (SSLRequest); undefined answers 'N'. */
  tls: SecureContext | undefined;
  /** Refuse a client that did not switch to TLS. */
  tlsRequired: boolean;
  env: Readonly<Record<string, string | undefined>>;
  startupTimeoutMs: number;
  upstreamTimeoutMs: number;
  /** Told of each refusal (to audit and count it). */
  refused(ctx: PostgresAccess | undefined, refusal: Refusal, peer: string): void;
  /** A cancel request from a client: the key it holds. */
  cancel(pid: number, secret: number): void;
  /** A session logged in upstream: the gateway takes it from here (registry, relay, audit). */
  opened(session: LoggedIn): void;
  log: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

/** Everything known about a session at the moment it is let in. */
export interface LoggedIn {
  ctx: Authorized<PostgresAccess> & { role: Role };
  resource: Resource & { postgres: NonNullable<Resource['postgres']> };
  client: Duplex;
  upstream: UpstreamSession;
  /** Client bytes that arrived after its password message (a pipelining client's first query). */
  pending: Buffer;
  params: StartupParams;
}

/**
 * One client connection from its first byte to the relay: the startup (SSL and GSSAPI encryption
 * requests, cancel requests, protocol 3.0 only), the password message that carries the access
 * token, the checks, and only then the upstream login. Every failure ends with an ErrorResponse or
 * a closed socket, never an exception past this function; the whole startup has a deadline, so a
 * client that never speaks holds a socket and a timer, nothing more.
 */
export async function handleConnection(raw: Socket, deps: ConnectionDeps): Promise<void> {
  raw.setNoDelay(true);
  raw.on('error', () => raw.destroy());
  let socket: Duplex = raw;
  const source = new PacketSource(raw);
  const peer = raw.remoteAddress ?? '';
  let finished = false;
  const deadline = setTimeout(() => {
    if (!finished) close(protocolViolation(`no login within ${Math.round(deps.startupTimeoutMs / 1000)} s`));
  }, deps.startupTimeoutMs);
  deadline.unref();

  function close(message?: Buffer): void {
    finished = true;
    clearTimeout(deadline);
    source.abort();
    if (message && socket.writable) socket.end(message);
    else socket.destroy();
    // A client that never reads the message must not keep the socket open.
    setTimeout(() => socket.destroy(), 1_000).unref();
  }

  try {
    const startup = await negotiate();
    if (startup === undefined) return;
    const { minor, params } = startup;
    const tlsOn = socket instanceof TLSSocket;
    if (deps.tlsRequired && !tlsOn) {
      return close(
        errorResponse({
          severity: 'FATAL',
          code: '28000',
          message: 'jitgate requires an encrypted connection (SSL)',
          hint: 'Connect with sslmode=require (or verify-full with the gateway certificate).',
        }),
      );
    }
    const database = params.get('database') ?? params.get('user') ?? '';
    if (params.has('replication')) {
      return close(protocolViolation('replication connections are not passed through jitgate'));
    }
    if (params.has('options')) {
      return close(
        protocolViolation(
          'startup options (PGOPTIONS, -c …) are not passed through; use SET after connecting',
        ),
      );
    }
    const unknownOptions = [...params.keys()].filter((k) => k.startsWith('_pq_.'));
    if (minor > 0 || unknownOptions.length > 0) socket.write(negotiateProtocolVersion(unknownOptions));
    socket.write(askForPassword());
    const answer = await source.message(MAX_PASSWORD_LENGTH);
    if (answer.type !== 'p') {
      return close(protocolViolation(`expected a password message, got ${JSON.stringify(answer.type)}`));
    }
    const nul = answer.body.indexOf(0);
    const password = answer.body.toString('utf8', 0, nul === -1 ? answer.body.length : nul);

    const ctx = postgresAccess(deps.resolveClient(peer, undefined), database, password);
    const refused = await runChecks(deps.checks, ctx);
    if (refused !== undefined || !isAuthorized(ctx) || !ctx.role?.db || !ctx.resource.postgres) {
      const why = refused ?? outOfOrder(ctx, 'final', 'database, token and grant');
      deps.refused(ctx, why, peer);
      return close(refusalMessage(why));
    }
    const resource = ctx.resource as LoggedIn['resource'];
    const login = ctx.role.db;
    let dbPass: string | undefined;
    try {
      dbPass = await dbPassword(login, deps.env);
    } catch (err) {
      deps.log.error(
        { resource: resource.name, role: ctx.roleName, err: (err as Error).message },
        'postgres: no password for the login',
      );
      const why = refusal(
        'unavailable',
        { resource },
        `jitgate cannot log in to ${resource.name}: its login is not set up.`,
      );
      deps.refused(ctx, why, peer);
      return close(refusalMessage(why));
    }
    const upstreamParams: [string, string][] = [];
    for (const [k, v] of params) if (PASSED_ON.has(k)) upstreamParams.push([k, v]);
    if (!params.has('application_name')) upstreamParams.push(['application_name', 'jitgate']);
    if (login.readOnly) upstreamParams.push(['options', '-c default_transaction_read_only=on']);
    let upstream: UpstreamSession;
    try {
      upstream = await loginUpstream(
        resource.postgres,
        { user: login.user, password: dbPass, params: upstreamParams },
        deps.upstreamTimeoutMs,
      );
    } catch (err) {
      deps.log.warn(
        { resource: resource.name, role: ctx.roleName, err: (err as Error).message },
        'postgres: upstream login failed',
      );
      const why = refusal(
        'upstream_unreachable',
        { resource },
        `jitgate could not log in to the database behind ${resource.name}.`,
      );
      deps.refused(ctx, why, peer);
      return close(refusalMessage(why));
    }
    if (finished || socket.destroyed) {
      upstream.socket.destroy();
      return;
    }
    finished = true;
    clearTimeout(deadline);
    const pending = source.release();
    deps.opened({
      ctx: ctx as LoggedIn['ctx'],
      resource,
      client: socket,
      upstream,
      pending,
      params,
    });
  } catch (err) {
    if (finished) return;
    if (err instanceof ProtocolViolation) return close(protocolViolation(err.message));
    if (err instanceof ClientGone) return close();
    deps.log.error({ err }, 'postgres: connection failed');
    close(refusalMessage(refusal('internal_error')));
  }

  /** SSLRequest / GSSENCRequest / CancelRequest until the startup message; undefined when the connection is done. */
  async function negotiate(): Promise<{ minor: number; params: StartupParams } | undefined> {
    let asked = 0;
    for (;;) {
      const packet = parseStartup(await source.startup());
      switch (packet.kind) {
        case 'bad':
          close(protocolViolation(packet.why));
          return undefined;
        case 'cancel':
          deps.cancel(packet.pid, packet.secret);
          close();
          return undefined;
        case 'gssenc':
        case 'ssl': {
          asked += 1;
          if (asked > 2 || socket instanceof TLSSocket) {
            close(protocolViolation('encryption was already negotiated'));
            return undefined;
          }
          // Bytes sent after the request, before our answer, would be read as if encrypted: refused.
          if (source.reader.buffered > 0) {
            close(protocolViolation('data sent after an encryption request, before its answer'));
            return undefined;
          }
          if (packet.kind === 'gssenc' || deps.tls === undefined) {
            socket.write('N');
            continue;
          }
          socket.write('S');
          const tls = new TLSSocket(raw, { isServer: true, secureContext: deps.tls });
          tls.on('error', () => tls.destroy());
          socket = tls;
          source.switchTo(tls);
          continue;
        }
        case 'startup':
          return packet;
      }
    }
  }
}
