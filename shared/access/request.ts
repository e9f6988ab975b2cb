import { formatDuration } from '../duration.js';
import { errorFor, type JitgateError } from '../errors.js';
import type { RequestLimits } from '../grants/lua/scripts.js';
import type { Decided } from '../grants/store.js';
import { newRequestId, type RequestId, type SlackUserId } from '../ids.js';
import {
  checkDuration,
  checkReasonFor,
  getResource,
  isAutoApproved,
  mayRequest,
  resolveRole,
} from '../policy/index.js';
import type { Resource } from '../policy/types.js';
import type { AccessDeps } from './deps.js';
import type { Effect, Outcome } from './effects.js';
import { followGrant, refreshHomes } from './follow-up.js';

/**
 * What someone asks for, however they asked (the `/access` line, the request modal, a web form):
 * the one input shape of a request. Role and duration fall back to the resource's defaults.
 */
export interface RequestInput {
  user: SlackUserId;
  /**
   * Labels the grant for the upstream (X-JIT-Email); '' when unknown: refused where the resource
   * has `requireEmail` (the default), else the grant carries no e-mail at all.
   */
  email: string;
  resource: string;
  role?: string | undefined;
  durationMs?: number | undefined;
  reason: string;
  breakGlass?: boolean | undefined;
  /**
   * The request's id when the caller named it before filing (a page that follows the request it
   * asked for: the id is in its address before the request exists); a new one otherwise. Filing the
   * same id twice is refused (`request_exists`), so a retried filing cannot make a second request.
   */
  id?: RequestId | undefined;
  /** The Slack workspace asked from, when known: recorded on the grant, a Slack sign-in must be of it. */
  team?: string | undefined;
}

/** The part of a RequestInput that is typed or picked (the command line, the forms); the caller adds who asks. */
export type RequestAsk = Omit<RequestInput, 'user' | 'email'>;

/**
 * Files a request: checked against the policy, saved pending (with its timeout and nudge), or granted
 * in the same step when the requester is auto-approved or breaks glass.
 *
 * @example const { request, change, effects } = await requestAccess(deps, { user, email, resource: 'grafana', reason: 'INC-1' });
 */
export async function requestAccess(deps: AccessDeps, input: RequestInput): Promise<Outcome> {
  const resource = getResource(deps.policy(), input.resource);
  if (!(await mayRequest(deps.policy(), resource, input.user, deps.usergroups))) {
    throw errorFor('not_allowed_to_request', { resource: resource.name });
  }
  const role = resolveRole(resource, input.role);
  const durationMs = checkDuration(resource, input.durationMs);
  const { reason, ticket } = checkReasonFor(
    resource,
    input.reason,
    `/access ${resource.name}/${role.name} ${formatDuration(durationMs)}${input.breakGlass ? ' --break-glass' : ''}`,
  );
  if (input.breakGlass && !resource.breakGlass) throw breakGlassRefused(resource, durationMs, reason);
  checkEmail(resource, input.email);
  const id = input.id ?? newRequestId();
  const ask = { user: input.user, role: role.name, durationMs, at: deps.clock.now() };
  const autoApprovedBy = input.breakGlass
    ? input.user
    : (await isAutoApproved(resource, ask, deps.usergroups))
      ? 'jitgate'
      : undefined;
  const decided = await deps.store.transitions.createRequest(
    {
      id,
      kind: 'access',
      requester: input.user,
      email: input.email,
      resource: resource.name,
      role: role.name,
      durationMs,
      reason,
      ...(ticket ? { ticket } : {}),
      ...(resource.escalation ? { escalateTo: resource.escalation.to } : {}),
      breakGlass: Boolean(input.breakGlass),
      approvalsRequired: resource.approvalsRequired,
      selfApproval: resource.selfApproval,
      pendingTimeoutMs: resource.pendingTimeoutMs,
      limits: limitsOf(resource),
      ...(input.team ? { team: input.team } : {}),
    },
    autoApprovedBy,
  );
  return filed(deps, resource, decided);
}

/**
 * What a new request is held to, atomically where it is filed: the resource's longest access at a
 * time (an auto-approved extension is capped there), and how many undecided requests one person may
 * have, in all and for this resource (see create-request.lua).
 */
export function limitsOf(resource: Resource): RequestLimits {
  return {
    maxDurationMs: resource.maxDurationMs,
    pendingPerPerson: resource.maxPendingRequests,
    pendingPerResource: resource.maxPendingPerResource,
  };
}

/** With `requireEmail`, no e-mail from Slack means no request (`email_required`), before anything is stored. */
export function checkEmail(resource: Resource, email: string): void {
  if (resource.requireEmail && email.trim() === '') {
    throw errorFor('email_required', { resource: resource.name });
  }
}

/**
 * What follows a new request or extension: pending, its jobs and its approval message; granted at
 * once, the grant's jobs, the link, the message (and the break-glass alert).
 */
export async function filed(
  deps: AccessDeps,
  resource: Resource,
  { decision, request }: Decided,
): Promise<Outcome> {
  const id = request.id;
  const homes = refreshHomes(request.requester);
  if (decision.outcome !== 'granted') {
    await deps.scheduler.requestFiled(request, resource.nudgeAfterMs, resource.escalation?.afterMs);
    const post: Effect = { type: 'post-approval-message', requestId: id, nudgeIfUnposted: true };
    return { request, resource, change: 'filed', effects: [post, homes] };
  }
  const grant = await followGrant(deps, request, resource, decision);
  const alert: Effect[] = request.breakGlass
    ? [
        { type: 'announce-break-glass', requestId: id, channel: resource.approvalChannel },
        { type: 'ask-review', requestId: id, reminder: false },
      ]
    : [];
  if (request.breakGlass && request.kind === 'access') {
    const every = resource.reviewRemindEveryMs;
    await deps.scheduler.reviewReminder(id, deps.clock.now() + every, every);
  }
  // The link first: someone breaking glass needs it more than the channel needs the message.
  const effects: Effect[] = [
    grant.effects.link,
    { type: 'post-approval-message', requestId: id, nudgeIfUnposted: false },
    ...alert,
    ...grant.effects.extended,
    homes,
  ];
  return { request, resource, change: 'granted', effects };
}

function breakGlassRefused(resource: Resource, durationMs: number, reason: string): JitgateError {
  return errorFor('break_glass_not_allowed', {
    resource: resource.name,
    command: `/access ${resource.name} ${formatDuration(durationMs)} ${reason}`,
  });
}
