import type { Clock } from '../../shared/clock.js';
import type { AccessStore } from '../../shared/grants/store.js';
import type { Logger } from '../../shared/log.js';
import type { Metrics } from '../metrics.js';
import type { RefusalRecorder } from '../refusal-records.js';
import type { Refusal } from '../refusals.js';
import type { UsageRecorder } from '../usage.js';
import type { PostgresAccess } from './checks.js';
import type { LoggedIn } from './connection.js';
import { authenticationOk, backendKeyData, errorResponse, readyForQuery } from './protocol.js';
import { relay } from './relay.js';
import type { CutReason, SessionRegistry } from './sessions.js';

/**
 * A refusal before login, recorded like the HTTP path's: counted per minute, resource and code;
 * `access.denied` in the audit chain only when it names a real grant (a verified token), at most
 * GRANT_REFUSALS_AUDITED per grant (authorizer/refusal-records.ts). Never awaited.
 */
export function auditRefusal(deps: { refusals: Pick<RefusalRecorder, 'refused'>; metrics: Metrics }) {
  return (ctx: PostgresAccess | undefined, refused: Refusal, peer: string): void => {
    deps.metrics.decisions.inc({
      resource: ctx?.resource?.name ?? '',
      decision: 'deny',
      reason: refused.code,
    });
    deps.refusals.refused({
      resource: ctx?.resource?.name,
      reason: refused.code,
      grantId: ctx?.grantId,
      event: () => ({
        type: 'access.denied',
        actor: ctx?.user ?? 'anonymous',
        subject: ctx?.user,
        resource: ctx?.resource?.name,
        role: ctx?.roleName,
        grantId: ctx?.grantId,
        reason: refused.code,
        method: 'postgres',
        client: ctx?.client.client?.toString() ?? peer,
      }),
    });
  };
}

/** The FATAL message a session gets when its grant ends under it. */
export function cutMessage(grantId: string, reason: CutReason): Buffer {
  const text =
    reason.why === 'revoked'
      ? `jitgate: your grant ${grantId} was revoked${reason.by ? ` by ${reason.by}` : ''}`
      : reason.why === 'expired'
        ? `jitgate: your grant ${grantId} has expired`
        : 'jitgate: the gateway is shutting down';
  return errorResponse({
    severity: 'FATAL',
    // 57P01 admin_shutdown: "terminating connection due to administrator command".
    code: '57P01',
    message: text,
    hint:
      reason.why === 'shutdown' ? 'Reconnect in a moment.' : 'Ask for access again with /access in Slack.',
  });
}

/**
 * A session let in: told it is in (AuthenticationOk, the server's parameters, a cancel key of the
 * gateway's own, ReadyForQuery), tracked by its grant until it ends, relayed, and audited:
 * `db.session.started` and `db.session.ended` in the chain (who, grant, client, duration,
 * statements, bytes), each statement's text (bounded) in the JSON log only.
 */
export function openSession(deps: {
  registry: SessionRegistry;
  store: Pick<AccessStore, 'transitions'>;
  usage: UsageRecorder;
  metrics: Metrics;
  log: Logger;
  clock: Clock;
  maxStatement: number;
}) {
  return (s: LoggedIn): void => {
    const { ctx, resource, client, upstream } = s;
    const startedAt = deps.clock.now();
    const who = {
      user: ctx.user,
      email: ctx.email,
      grantId: ctx.grantId,
      resource: resource.name,
      role: ctx.roleName,
      dbUser: ctx.role.db?.user,
      client: ctx.client.client?.toString(),
    };
    // Who is bound once (pino serialises a child's bindings when it is made), and statements are
    // written in batches: one line per session at most every 100 ms (or 100 statements), so that a
    // busy session costs the relay a log write per batch, not per statement.
    const statementLog = deps.log.child({ db: who });
    const batch: string[] = [];
    let batchTimer: NodeJS.Timeout | undefined;
    const flushStatements = () => {
      if (batchTimer) clearTimeout(batchTimer);
      batchTimer = undefined;
      if (batch.length > 0) statementLog.info({ statements: batch.splice(0) }, 'postgres statements');
    };
    const key = deps.registry.issueCancelKey(resource.postgres, upstream.pid, upstream.secret);
    client.write(
      Buffer.concat([
        authenticationOk(),
        ...upstream.greeting,
        backendKeyData(key.pid, key.secret),
        readyForQuery(upstream.status),
      ]),
    );
    deps.metrics.decisions.inc({ resource: resource.name, decision: 'allow', reason: 'ok' });
    deps.usage.used(ctx.grantId, ctx.expiresAt);
    audit(deps, { type: 'db.session.started', actor: ctx.user, subject: ctx.user, ...who });
    deps.metrics.openPostgresSessions.inc();
    let endedBy = 'client';
    const tracked = {
      grantId: ctx.grantId,
      cut(reason: CutReason) {
        endedBy = reason.why;
        deps.log.info({ grantId: ctx.grantId, why: reason.why }, 'ending PostgreSQL session');
        // The running statement is cancelled too: a closed socket alone would let it run to its end.
        if (reason.why !== 'shutdown')
          deps.registry.cancelUpstream(resource.postgres, upstream.pid, upstream.secret);
        session.end(cutMessage(ctx.grantId, reason));
      },
    };
    const session = relay({
      client,
      upstream: upstream.socket,
      maxStatement: deps.maxStatement,
      onStatement: (text) => {
        batch.push(text);
        if (batch.length >= 100) flushStatements();
        else if (!batchTimer) {
          batchTimer = setTimeout(flushStatements, 100);
          batchTimer.unref();
        }
      },
      onClose: (stats) => {
        flushStatements();
        deps.registry.untrack(tracked);
        deps.registry.forgetCancelKey(key.pid);
        deps.metrics.openPostgresSessions.dec();
        audit(deps, {
          type: 'db.session.ended',
          actor: ctx.user,
          subject: ctx.user,
          ...who,
          endedBy,
          durationMs: deps.clock.now() - startedAt,
          ...stats,
        });
      },
    });
    deps.registry.track(tracked, ctx.expiresAt);
    if (upstream.rest.length > 0) client.write(upstream.rest);
    if (s.pending.length > 0) client.emit('data', s.pending);
  };
}

function audit(
  deps: { store: Pick<AccessStore, 'transitions'>; log: Logger },
  event: Record<string, unknown> & { type: string },
): void {
  deps.store.transitions
    .appendAudit(event)
    .catch((err) => deps.log.warn({ err, type: event.type }, 'could not audit a PostgreSQL session'));
}
