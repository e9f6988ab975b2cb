import type { Clock } from '../clock.js';
import { formatDuration } from '../duration.js';
import { JitgateError } from '../errors.js';
import type { AccessRequest } from '../grants/records.js';
import { type AccessStore, type Decision, grantIdOf } from '../grants/store.js';
import { type GrantId, newRequestId, type RequestId, type SlackUserId } from '../ids.js';
import type { JobScheduler } from '../jobs/scheduler.js';
import {
  checkDuration,
  checkExtension,
  checkNote,
  checkReason,
  getResource,
  isAdmin,
  isApprover,
  isAutoApproved,
  mayRequest,
  resolveRole,
} from '../policy/index.js';
import type { Policy, Resource, UsergroupLookup } from '../policy/types.js';

export interface AccessDeps {
  store: AccessStore;
  scheduler: JobScheduler;
  /** The current policy (a function, so that a reloaded policy takes effect without a restart). */
  policy: () => Policy;
  usergroups: UsergroupLookup;
  clock: Clock;
  /** The authorizer's external base URL, for redeem links. */
  publicUrl: string;
}

export interface RequestInput {
  user: SlackUserId;
  email: string;
  resource: string;
  role?: string | undefined;
  durationMs?: number | undefined;
  reason: string;
  breakGlass?: boolean;
  /** For extensions: the thread of the grant's approval message. */
  threadTs?: string;
}

/** The outcome of a use case: the request as it now stands, and a redeem link when access was granted. */
export interface Outcome {
  request: AccessRequest;
  decision?: Decision;
  redeemUrl?: string;
}

/**
 * The lifecycle's use cases, free of Slack: validate against the policy, change state in one atomic
 * step, schedule what follows. The bot and the worker call these; their tests need no Slack.
 *
 * @example const { request, redeemUrl } = await access.approve(requestId, approver);
 */
export class AccessService {
  constructor(private readonly deps: AccessDeps) {}

  /** Files a request, or grants it at once when the requester is auto-approved or breaks glass. */
  async request(input: RequestInput): Promise<Outcome> {
    const { policy, usergroups, store } = this.deps;
    const resource = getResource(policy(), input.resource);
    if (!(await mayRequest(policy(), resource, input.user, usergroups))) {
      throw new JitgateError(
        'not_allowed_to_request',
        `You may not request ${resource.name}; ask its approvers.`,
        {
          resource: resource.name,
        },
      );
    }
    const role = resolveRole(resource, input.role);
    const durationMs = checkDuration(resource, input.durationMs);
    const reason = checkReason(input.reason);
    if (input.breakGlass && !resource.breakGlass) {
      throw new JitgateError(
        'break_glass_not_allowed',
        `${resource.name} does not allow --break-glass; file a normal request: /access ${resource.name} ${formatDuration(durationMs)} ${reason}`,
        { resource: resource.name },
      );
    }
    const id = newRequestId();
    const auto = input.breakGlass ? input.user : isAutoApproved(resource, input.user) ? 'jitgate' : undefined;
    const decision = await store.createRequest(
      {
        id,
        kind: 'access',
        requester: input.user,
        email: input.email,
        resource: resource.name,
        role: role.name,
        durationMs,
        reason,
        breakGlass: Boolean(input.breakGlass),
        approvalsRequired: resource.approvalsRequired,
        selfApproval: resource.selfApproval,
        pendingTimeoutMs: resource.pendingTimeoutMs,
      },
      auto,
    );
    return this.after(id, resource, decision);
  }

  /** Asks for more time on an active grant; approved like a new request. */
  async extend(
    grantId: GrantId,
    user: SlackUserId,
    durationMs: number,
    reasonText: string,
  ): Promise<Outcome> {
    const { store, policy, clock } = this.deps;
    const original = await this.activeGrant(grantId);
    if (original.requester !== user) {
      throw new JitgateError('not_allowed_to_request', 'Only the holder of a grant can ask to extend it.', {
        grantId,
      });
    }
    const resource = getResource(policy(), original.resource);
    checkExtension(resource, (original.expiresAt ?? 0) - clock.now(), durationMs);
    const reason = checkReason(checkNote(reasonText) || original.reason);
    const id = newRequestId();
    const decision = await store.createRequest(
      {
        id,
        kind: 'extension',
        requester: user,
        email: original.email,
        resource: resource.name,
        role: original.role,
        durationMs,
        reason,
        breakGlass: false,
        approvalsRequired: resource.approvalsRequired,
        selfApproval: resource.selfApproval,
        pendingTimeoutMs: resource.pendingTimeoutMs,
        extendsGrant: grantId,
        threadTs: original.message?.ts,
      },
      isAutoApproved(resource, user) ? 'jitgate' : undefined,
    );
    return this.after(id, resource, decision);
  }

  /** One approver's approval; only approvers of the resource may, and the requester only where the policy allows. */
  async approve(requestId: RequestId, approver: SlackUserId): Promise<Outcome> {
    const { resource } = await this.decidable(requestId, approver);
    const decision = await this.deps.store.approve(requestId, approver);
    return this.after(requestId, resource, decision);
  }

  async deny(requestId: RequestId, approver: SlackUserId, reason = ''): Promise<Outcome> {
    await this.decidable(requestId, approver);
    await this.deps.store.deny(requestId, approver, checkNote(reason));
    await this.deps.scheduler.requestDecided(requestId);
    return { request: await this.load(requestId) };
  }

  async cancel(requestId: RequestId, user: SlackUserId): Promise<Outcome> {
    await this.deps.store.cancel(requestId, user);
    await this.deps.scheduler.requestDecided(requestId);
    return { request: await this.load(requestId) };
  }

  /** Ends a grant now. The holder, an approver of its resource, or an admin may. */
  async revoke(grantId: GrantId, actor: SlackUserId, reason = ''): Promise<Outcome & { already: boolean }> {
    const { store, policy, usergroups } = this.deps;
    const request = await store.getRequestOfGrant(grantId);
    if (!request) throw new JitgateError('no_such_grant', `There is no grant ${grantId}.`, { grantId });
    const resource = policy().resources.get(request.resource);
    const allowed =
      request.requester === actor ||
      (resource !== undefined && (await isApprover(resource, actor, usergroups))) ||
      (await isAdmin(policy(), actor, usergroups));
    if (!allowed) {
      throw new JitgateError(
        'not_allowed_to_revoke',
        'Only the holder, an approver of this resource or an admin can revoke this grant.',
        { grantId },
      );
    }
    const result = await store.revoke(grantId, actor, checkNote(reason));
    return { request: await this.load(request.id), already: result.outcome === 'already_revoked' };
  }

  /** A fresh one-time redeem link for the holder of an active grant (e.g. after an extension). */
  async redeemLink(grantId: GrantId): Promise<string> {
    const code = await this.deps.store.createRedeemCode(grantId);
    return `${this.deps.publicUrl}/_jitgate/redeem?code=${code}`;
  }

  /** The user's active grants and undecided requests. */
  async list(user: SlackUserId): Promise<{ grants: AccessRequest[]; pending: AccessRequest[] }> {
    const [grants, pending] = await Promise.all([
      this.deps.store.activeGrantsOf(user),
      this.deps.store.pendingRequestsOf(user),
    ]);
    return { grants, pending };
  }

  /** Undecided requests this person may decide (not their own unless self-approval is on). */
  async awaiting(approver: SlackUserId): Promise<AccessRequest[]> {
    const { store, policy, usergroups } = this.deps;
    const pending = await store.pendingRequests();
    const mine: AccessRequest[] = [];
    for (const request of pending) {
      const resource = policy().resources.get(request.resource);
      if (!resource || (request.requester === approver && !request.selfApproval)) continue;
      if (request.approvals.includes(approver)) continue;
      if (await isApprover(resource, approver, usergroups)) mine.push(request);
    }
    return mine;
  }

  async load(requestId: RequestId | string): Promise<AccessRequest> {
    const request = await this.deps.store.getRequest(requestId);
    if (!request) throw new JitgateError('no_such_request', 'There is no such request.', { requestId });
    return request;
  }

  private async activeGrant(grantId: GrantId): Promise<AccessRequest> {
    const request = await this.deps.store.getRequestOfGrant(grantId);
    if (!request) throw new JitgateError('no_such_grant', `There is no grant ${grantId}.`, { grantId });
    if (request.grantStatus !== 'active' || (request.expiresAt ?? 0) <= this.deps.clock.now()) {
      throw new JitgateError('grant_not_active', `Grant ${grantId} is no longer active.`, { grantId });
    }
    return request;
  }

  private async decidable(requestId: RequestId, approver: SlackUserId) {
    const request = await this.load(requestId);
    const resource = this.deps.policy().resources.get(request.resource);
    if (!resource || !(await isApprover(resource, approver, this.deps.usergroups))) {
      throw new JitgateError('not_an_approver', `You are not an approver of ${request.resource}.`, {
        requestId,
        resource: request.resource,
      });
    }
    return { request, resource };
  }

  /** What follows a filed or decided request: its jobs, and a redeem link when it was granted. */
  private async after(requestId: RequestId, resource: Resource, decision: Decision): Promise<Outcome> {
    const { scheduler } = this.deps;
    const request = await this.load(requestId);
    if (decision.outcome !== 'granted') {
      if (request.status === 'pending' && decision.outcome === 'pending' && decision.approvals === 0) {
        await scheduler.requestFiled(request, resource.nudgeAfterMs);
      }
      return { request, decision };
    }
    await scheduler.requestDecided(requestId);
    const grantId = decision.grantId ?? grantIdOf(requestId);
    const original = request.kind === 'extension' ? await this.load(`r_${grantId.slice(2)}`) : request;
    await scheduler.grantScheduled(original.id, grantId, decision.expiresAt, resource.reminderBeforeMs);
    return { request, decision, redeemUrl: await this.redeemLink(grantId) };
  }
}
