import { z } from 'zod';
import { boundedRecord } from '../../audit/bounded.js';
import { type GrantId, type RequestId, requestIdOf, type SlackUserId } from '../../ids.js';
import type { RedisKeys } from '../../redis/keys.js';
import { type PersonAccess, parsePersonGrants } from '../person-grants.js';
import {
  type AccessRequest,
  LIVE_GRANT_FIELDS,
  type LiveGrant,
  parseLiveGrant,
  parseRequest,
} from '../records.js';
import { LuaList, runRead, runScript, type ScriptContext } from './run.js';

/**
 * One typed call per script: it declares every key the script touches (all built by `redisKeys`),
 * passes the ids the script cannot derive itself, and parses the reply into the changed record.
 * Each script's header (`./<name>.lua`) says what its KEYS, ARGV and reply are.
 */

/** What filing or approving a request decided. */
export type Decision =
  | { outcome: 'pending'; approvals: number }
  | { outcome: 'already_approved'; approvals: number }
  | { outcome: 'granted'; grantId: GrantId; expiresAt: number };

/** A decision and the request as it now stands. */
export interface Decided {
  decision: Decision;
  request: AccessRequest;
}

const Recorded = { request: LuaList, requestApprovals: LuaList };

const DecidedReply = z
  .union([
    z.object({ outcome: z.literal('granted'), grantId: z.string(), expiresAt: z.number(), ...Recorded }),
    z.object({
      outcome: z.enum(['pending', 'already_approved']),
      approvals: z.number().optional(),
      ...Recorded,
    }),
  ])
  .transform(
    (r): Decided => ({
      decision:
        r.outcome === 'granted'
          ? { outcome: 'granted', grantId: r.grantId as GrantId, expiresAt: r.expiresAt }
          : { outcome: r.outcome, approvals: r.approvals ?? 0 },
      request: requestOf(r),
    }),
  );

/** Whose grant it is, as the person's access keys name it: the holder, the resource, the e-mail. */
export interface Holder {
  requester: SlackUserId;
  resource: string;
  /** The request's e-mail as stored ('' for none); its access key is lower-cased. */
  email: string;
}

/** The person's grants for the resource, by Slack user id and by e-mail (includes/access.lua). */
function accessKeys(keys: RedisKeys, h: Holder): string[] {
  return [keys.accessByUser(h.resource, h.requester), keys.accessByEmail(h.resource, h.email)];
}

/** The keys of a script that may grant: the request's, and those of the grant it mints or extends. */
function grantingKeys(keys: RedisKeys, id: RequestId, holder: Holder, grantId: GrantId): string[] {
  const owner = requestIdOf(grantId);
  const { requester } = holder;
  return [
    keys.request(id),
    keys.requestApprovals(id),
    keys.pendingRequests,
    keys.userRequests(requester),
    keys.grant(grantId),
    keys.request(owner),
    keys.requestApprovals(owner),
    keys.activeGrants,
    keys.userGrants(requester),
    ...accessKeys(keys, holder),
    keys.userPending(requester),
  ];
}

/** The keys of a script that only changes a request. */
function requestKeys(keys: RedisKeys, id: RequestId, requester: SlackUserId): string[] {
  return [
    keys.request(id),
    keys.requestApprovals(id),
    keys.pendingRequests,
    keys.userRequests(requester),
    keys.userPending(requester),
  ];
}

/**
 * The limits a new request is held to, in ms and counts; 0 (or left out) is no limit. The use cases
 * pass the resource's (`maxDurationMs`, `maxPendingRequests`, `maxPendingPerResource`).
 */
export interface RequestLimits {
  /** An extension never leaves its grant more than this from now. */
  maxDurationMs?: number | undefined;
  /** The most undecided requests one person may have. */
  pendingPerPerson?: number | undefined;
  /** The most undecided requests for one resource one person may have. */
  pendingPerResource?: number | undefined;
}

/**
 * `create-request.lua`. `grantId` is the grant to mint (`grantIdOf(id)`) or, for an extension, the
 * grant it extends; `fields` are the request hash's fields.
 */
export async function createRequest(
  ctx: ScriptContext,
  p: {
    id: RequestId;
    holder: Holder;
    grantId: GrantId;
    autoApprovedBy: string;
    limits: RequestLimits;
    fields: string[];
  },
): Promise<Decided> {
  const keys = [...grantingKeys(ctx.keys, p.id, p.holder, p.grantId), ctx.keys.breakGlassUnreviewed];
  const { maxDurationMs, pendingPerPerson, pendingPerResource } = p.limits;
  const reply = await runScript(ctx, 'create-request', keys, [
    p.grantId,
    p.autoApprovedBy,
    maxDurationMs ?? 0,
    pendingPerPerson ?? 0,
    pendingPerResource ?? 0,
    ...p.fields,
  ]);
  return DecidedReply.parse(reply);
}

/**
 * `approve-request.lua`. `grantId` as for `createRequest`; `holder` names the user's indexes;
 * `maxDurationMs` (the resource's now) caps an extension when it is approved.
 */
export async function approveRequest(
  ctx: ScriptContext,
  p: {
    id: RequestId;
    holder: Holder;
    grantId: GrantId;
    approver: SlackUserId;
    maxDurationMs?: number;
    steppedUp?: boolean;
  },
): Promise<Decided> {
  const keys = grantingKeys(ctx.keys, p.id, p.holder, p.grantId);
  const { requester, resource, email } = p.holder;
  const reply = await runScript(ctx, 'approve-request', keys, [
    p.approver,
    p.grantId,
    requester,
    resource,
    email,
    p.maxDurationMs ?? 0,
    p.steppedUp ? '1' : '0',
  ]);
  return DecidedReply.parse(reply);
}

const ClosedReply = z.object({ outcome: z.enum(['denied', 'cancelled']), ...Recorded });

/** `deny-or-cancel-request.lua`: the request, now denied or cancelled. */
export async function denyOrCancelRequest(
  ctx: ScriptContext,
  p: { id: RequestId; requester: SlackUserId; actor: SlackUserId; reason: string; mode: 'deny' | 'cancel' },
): Promise<AccessRequest> {
  const keys = requestKeys(ctx.keys, p.id, p.requester);
  const reply = await runScript(ctx, 'deny-or-cancel-request', keys, [
    p.actor,
    p.reason,
    p.mode,
    p.requester,
  ]);
  return requestOf(ClosedReply.parse(reply));
}

const ExpiredRequestReply = z.object({ outcome: z.enum(['expired', 'noop']), ...Recorded });

/** `expire-request.lua`: whether it expired now, and the request as it stands. */
export async function expireRequest(
  ctx: ScriptContext,
  p: { id: RequestId; requester: SlackUserId },
): Promise<{ expired: boolean; request: AccessRequest }> {
  const keys = requestKeys(ctx.keys, p.id, p.requester);
  const reply = ExpiredRequestReply.parse(await runScript(ctx, 'expire-request', keys, [p.requester]));
  return { expired: reply.outcome === 'expired', request: requestOf(reply) };
}

const EscalatedReply = z.object({
  outcome: z.enum(['escalated', 'already_escalated', 'noop']),
  ...Recorded,
});

/** `escalate-request.lua`: whether the request was escalated now, and the request as it stands. */
export async function escalateRequest(
  ctx: ScriptContext,
  p: { id: RequestId; requester: SlackUserId },
): Promise<{ outcome: z.infer<typeof EscalatedReply>['outcome']; request: AccessRequest }> {
  const keys = requestKeys(ctx.keys, p.id, p.requester);
  const reply = EscalatedReply.parse(await runScript(ctx, 'escalate-request', keys, [p.requester]));
  return { outcome: reply.outcome, request: requestOf(reply) };
}

const ReviewedReply = z.object({ outcome: z.enum(['reviewed', 'already_reviewed']), ...Recorded });

/** `review-grant.lua`: whether this review counted (the first does), and the grant's request as it stands. */
export async function reviewGrant(
  ctx: ScriptContext,
  p: { grantId: GrantId; reviewer: SlackUserId; verdict: 'justified' | 'flagged'; note: string },
): Promise<{ outcome: 'reviewed' | 'already_reviewed'; request: AccessRequest }> {
  const rid = requestIdOf(p.grantId);
  const keys = [ctx.keys.request(rid), ctx.keys.requestApprovals(rid), ctx.keys.breakGlassUnreviewed];
  const reply = ReviewedReply.parse(
    await runScript(ctx, 'review-grant', keys, [p.reviewer, p.verdict, p.note]),
  );
  return { outcome: reply.outcome, request: requestOf(reply) };
}

const RevokedReply = z.object({ outcome: z.enum(['revoked', 'already_revoked']), ...Recorded });

/** `revoke-grant.lua`: the outcome and the grant's request, now with its grant revoked. */
export async function revokeGrant(
  ctx: ScriptContext,
  p: { grantId: GrantId; holder: Holder; actor: SlackUserId | 'jitgate'; reason: string },
): Promise<{ outcome: 'revoked' | 'already_revoked'; request: AccessRequest }> {
  const rid = requestIdOf(p.grantId);
  const { keys } = ctx;
  const declared = [
    keys.grant(p.grantId),
    keys.request(rid),
    keys.requestApprovals(rid),
    keys.activeGrants,
    keys.userGrants(p.holder.requester),
    keys.revocations,
    ...accessKeys(keys, p.holder),
  ];
  const args = [p.actor, p.reason, p.grantId, p.holder.requester, p.holder.resource, p.holder.email];
  const reply = RevokedReply.parse(await runScript(ctx, 'revoke-grant', declared, args));
  return { outcome: reply.outcome, request: requestOf(reply) };
}

const ExpiredGrantReply = z.object({
  outcome: z.enum(['expired', 'noop', 'not_yet']),
  expiresAt: z.number().optional(),
  ...Recorded,
});

/** `expire-grant.lua`: the outcome (`not_yet` with the expiry now) and the grant's request. */
export async function expireGrant(
  ctx: ScriptContext,
  p: { requestId: RequestId; grantId: GrantId; holder: Holder },
): Promise<{ outcome: 'expired' | 'noop' | 'not_yet'; expiresAt?: number; request: AccessRequest }> {
  const { keys } = ctx;
  const declared = [
    keys.request(p.requestId),
    keys.requestApprovals(p.requestId),
    keys.grant(p.grantId),
    keys.activeGrants,
    keys.userGrants(p.holder.requester),
    keys.revocations,
    ...accessKeys(keys, p.holder),
  ];
  const { requester, resource, email } = p.holder;
  const reply = ExpiredGrantReply.parse(
    await runScript(ctx, 'expire-grant', declared, [p.grantId, requester, resource, email]),
  );
  return {
    outcome: reply.outcome,
    ...(reply.expiresAt !== undefined ? { expiresAt: reply.expiresAt } : {}),
    request: requestOf(reply),
  };
}

const RedeemedReply = z.object({ grantId: z.string(), grant: LuaList });

/** `redeem-code.lua`: consumes the code whose hash is `codeHash` and answers its live grant. */
export async function redeemCode(
  ctx: ScriptContext,
  p: { codeHash: string; grantId: GrantId; usedMarkerMs: number; client?: string | undefined },
): Promise<LiveGrant> {
  const { keys } = ctx;
  const declared = [keys.redeemCode(p.codeHash), keys.redeemCodeUsed(p.codeHash), keys.grant(p.grantId)];
  const reply = RedeemedReply.parse(
    await runScript(ctx, 'redeem-code', declared, [p.usedMarkerMs, p.grantId, clientField(p.client)]),
  );
  const hash = recordOf(reply.grant);
  const grant = parseLiveGrant(
    reply.grantId,
    LIVE_GRANT_FIELDS.map((f) => hash[f] ?? null),
  );
  if (!grant) throw new Error(`redeem-code answered grant ${reply.grantId} without its live fields`);
  return grant;
}

/** `append-audit.lua`: every string in the event bounded first (shared/audit/bounded.ts). */
export async function appendAudit(ctx: ScriptContext, event: Record<string, unknown>): Promise<void> {
  await runScript(ctx, 'append-audit', [], [JSON.stringify(boundedRecord(event))]);
}

const AuditedReply = z.object({ audited: z.boolean() });

/**
 * `audit-grant-refusal.lua`: appends the event unless the grant already had `perWindow` refusals
 * audited in the current window; answers whether it did.
 */
export async function auditGrantRefusal(
  ctx: ScriptContext,
  p: { grantId: string; event: Record<string, unknown>; perWindow: number; windowMs: number },
): Promise<boolean> {
  const reply = await runScript(
    ctx,
    'audit-grant-refusal',
    [ctx.keys.grantRefusalsAudited(p.grantId)],
    [JSON.stringify(boundedRecord(p.event)), p.perWindow, p.windowMs],
  );
  return AuditedReply.parse(reply).audited;
}

const UseReply = z.object({ outcome: z.enum(['first', 'counted', 'gone']) });

/**
 * `record-use.lua`: `first` the first time the grant is used, then `counted`; `gone` once expired.
 * `client` (the address of the request that made this process see the grant first) goes in the event.
 */
export async function recordUse(
  ctx: ScriptContext,
  p: { grantId: string; requests: number; client?: string | undefined },
): Promise<'first' | 'counted' | 'gone'> {
  const reply = await runScript(
    ctx,
    'record-use',
    [ctx.keys.grant(p.grantId)],
    [p.grantId, p.requests, clientField(p.client)],
  );
  return UseReply.parse(reply).outcome;
}

/** A client address for an audit event: '' for none; bounded, whatever the caller passes. */
function clientField(client: string | undefined): string {
  return (client ?? '').slice(0, 64);
}

/** A Redis hash read back as a flat field/value list (HGETALL inside a script). */
function recordOf(flat: string[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) record[flat[i]!] = flat[i + 1]!;
  return record;
}

function requestOf(reply: { request: string[]; requestApprovals: string[] }): AccessRequest {
  const request = parseRequest(recordOf(reply.request), reply.requestApprovals);
  if (!request) throw new Error('a script answered a request that does not exist');
  return request;
}

/**
 * `person-access.lua`: the person's access hash for a resource and the session's logout marker, in
 * one call (the authorizer's one round trip for a signed-in request).
 */
export async function personAccess(
  ctx: Pick<ScriptContext, 'redis' | 'now'>,
  p: { grantsKey: string; endedKey: string },
): Promise<PersonAccess> {
  const reply = await runRead(ctx, 'person-access', [p.grantsKey, p.endedKey]);
  // Checked by hand rather than with zod: this runs on every signed-in request.
  if (!Array.isArray(reply) || typeof reply[0] !== 'number' || !Array.isArray(reply[1])) {
    throw new Error('person-access answered something other than [ended, entries]');
  }
  const flat = (reply[1] as unknown[]).filter((v): v is string => typeof v === 'string');
  return { ended: reply[0] === 1, grants: parsePersonGrants(flat) };
}

/**
 * `read-request.lua`: a request's hash and its approvers in one consistent read that a full Redis
 * still answers (MULTI does not: Redis refuses commands queued in one while it is out of memory).
 */
export async function readRequest(
  ctx: Pick<ScriptContext, 'redis' | 'now'>,
  p: { requestKey: string; approvalsKey: string },
): Promise<{ hash: Record<string, string>; approvals: string[] }> {
  const reply = await runRead(ctx, 'read-request', [p.requestKey, p.approvalsKey]);
  if (!Array.isArray(reply) || !Array.isArray(reply[0]) || !Array.isArray(reply[1])) {
    throw new Error('read-request answered something other than [hash, approvals]');
  }
  const strings = (list: unknown[]) => list.filter((v): v is string => typeof v === 'string');
  return { hash: recordOf(strings(reply[0])), approvals: strings(reply[1]) };
}
