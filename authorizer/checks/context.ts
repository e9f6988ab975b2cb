import type { GrantId, SlackUserId } from '../../shared/ids.js';
import type { Resource, Role } from '../../shared/policy/index.js';
import { type HintContext, type Refusal, type RefusalCode, refusal } from '../refusals.js';
import type { ClientInfo } from './client-address.js';

/**
 * One attempt to reach a resource, as the checks see it: no HTTP request in here, so that every
 * transport (HTTP and WebSocket today, a PostgreSQL startup message next) builds one and runs the
 * same checks. A transport adapter fills in what was presented; each check then reads it and writes
 * what it learned, in order. One mutable object per attempt: the checks allocate nothing when they
 * pass. A transport adds fields of its own by extending this interface (see HttpAccess).
 */
export interface AccessContext {
  /** The client as best we can tell (trusted proxies resolved), and the socket peer. */
  readonly client: ClientInfo;
  /** The method the role check judges (HTTP's; a transport without methods picks a fixed one). */
  readonly method: string;
  /** The request target as sent (path and query); `/` where the transport has none. */
  readonly target: string;
  readonly websocket: boolean;
  /** The credential presented: set by the adapter when the transport delivers it outright, else by a check. */
  token: string | undefined;

  // What the checks learned, each undefined until the check that sets it has passed.
  /** The resource asked for (set by a route check). */
  resource: Resource | undefined;
  /** The target as the upstream will see it (set by a route check). */
  upstreamPath: string | undefined;
  /** Who presented the credential and the grant it names (set by an identity check: the token). */
  user: SlackUserId | undefined;
  email: string | undefined;
  grantId: GrantId | undefined;
  roleName: string | undefined;
  /**
   * `cookie` when the token was minted for a browser's cookie (set by the token check, from the
   * claims it verified), so that a transport can refuse it elsewhere without verifying it again.
   */
  tokenUse?: 'cookie' | undefined;
  /**
   * The live grant's expiry in ms: set by the grant check, or by an identity check that read the
   * live grant itself (a session's), in which case the grant check has nothing left to do.
   */
  expiresAt: number | undefined;
  /** The policy's role the grant holds (set by the role check). */
  role: Role | undefined;
}

/** What a check answers: nothing when the attempt may go on, the refusal when it may not. */
export type CheckResult = Refusal | undefined;

/**
 * One step of the decision. Synchronous where it can be: the runner awaits only the checks that
 * return a promise (the token and the grant check), so a synchronous one costs no microtask.
 */
export type Check<C extends AccessContext = AccessContext> = (ctx: C) => CheckResult | Promise<CheckResult>;

/** A check that needs no I/O; typed as such so that nobody awaits it (or makes it async) by mistake. */
export type SyncCheck<C extends AccessContext = AccessContext> = (ctx: C) => CheckResult;

/** A context every check let through: the resource, the identity and the live grant are known. */
export type Authorized<C extends AccessContext = AccessContext> = C & {
  resource: Resource;
  upstreamPath: string;
  user: SlackUserId;
  email: string;
  grantId: GrantId;
  roleName: string;
  expiresAt: number;
};

/**
 * Whether the checks established everything an allowed attempt needs. A list that lets an attempt
 * through without a route, an identity or a live grant is a wiring mistake, and the caller refuses
 * it (fail closed) rather than trusting the list.
 */
export function isAuthorized<C extends AccessContext>(ctx: C): ctx is Authorized<C> {
  return (
    ctx.resource !== undefined &&
    ctx.upstreamPath !== undefined &&
    ctx.user !== undefined &&
    ctx.email !== undefined &&
    ctx.grantId !== undefined &&
    ctx.roleName !== undefined &&
    ctx.expiresAt !== undefined
  );
}

/**
 * A refusal about this attempt: its hint names the resource and role known so far.
 *
 * @example return refuse(ctx, 'token_expired');
 */
export function refuse(
  ctx: AccessContext,
  code: RefusalCode,
  message?: string,
  hint?: Pick<HintContext, 'method' | 'path' | 'signIn' | 'websocket'>,
): Refusal {
  return refusal(code, { resource: ctx.resource, role: ctx.roleName, ...hint }, message);
}

/** Refused when a check finds that an earlier one it depends on is missing from the list. */
export function outOfOrder(ctx: AccessContext, check: string, needs: string): Refusal {
  return refuse(
    ctx,
    'internal_error',
    `jitgate is misconfigured: its ${check} check needs a ${needs} check first.`,
  );
}
