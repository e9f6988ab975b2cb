import { formatDuration } from '../duration.js';
import { errorFor } from '../errors.js';
import { matchReason } from './reason-match.js';
import type { Resource, Role } from './types.js';

/**
 * The rules a request must meet, in one place: the `/access` parser, the request and deny forms and
 * the use cases all call these, so that the same bad input gets the same message wherever it is
 * typed. Each rule returns the checked value or throws a JitgateError worded by the catalogue
 * (messages.ts). A typed duration is read with `parseDuration` (duration.ts), which follows the same
 * pattern.
 */

/** The longest reason (or note on a denial or revocation) jitgate keeps, in characters. */
export const MAX_REASON = 500;

/**
 * Why someone needs access: required, spaces collapsed, at most MAX_REASON characters;
 * `input_invalid` (field `reason`) otherwise.
 *
 * @example checkReason('  INC-123\n dashboards ') // 'INC-123 dashboards'
 */
export function checkReason(text: string): string {
  const reason = checkNote(text);
  if (reason.length === 0) throw errorFor('input_invalid', { problem: 'reason_missing', field: 'reason' });
  return reason;
}

/** The longest ticket id kept from a reason (see reasonTicket). */
const MAX_TICKET = 64;

/**
 * A reason checked against its resource's `reasonPattern` as well (checkReason first), and the
 * ticket id in it: the text the pattern matched, or its group named `ticket` when it has one.
 * `input_invalid` (problem `reason_pattern`) with the pattern and the command to retry otherwise;
 * problem `reason_pattern_slow` when the pattern backtracks too long on this reason (matchReason).
 *
 * @example checkReasonFor(prodDb, 'INC-42 slow queries', '/access prod-db 1h') // { reason: 'INC-42 slow queries', ticket: 'INC-42' }
 */
export function checkReasonFor(
  resource: Resource,
  text: string,
  command: string,
): { reason: string; ticket?: string } {
  const reason = checkReason(text);
  if (resource.reasonPattern === undefined) return { reason };
  const match = matchReason(resource.reasonPattern, reason);
  if (match.matched === 'too_slow') {
    throw errorFor('input_invalid', {
      problem: 'reason_pattern_slow',
      field: 'reason',
      resource: resource.name,
      pattern: resource.reasonPattern,
    });
  }
  if (!match.matched) {
    throw errorFor('input_invalid', {
      problem: 'reason_pattern',
      field: 'reason',
      resource: resource.name,
      pattern: resource.reasonPattern,
      command,
    });
  }
  const ticket = (match.ticket ?? match.text).trim().slice(0, MAX_TICKET);
  return ticket === '' ? { reason } : { reason, ticket };
}

/**
 * An optional note (why a grant is revoked, a request denied, a grant extended): spaces collapsed,
 * empty allowed, at most MAX_REASON characters.
 *
 * @example checkNote(' done early ') // 'done early'
 */
export function checkNote(text: string | undefined): string {
  const note = (text ?? '').trim().replace(/\s+/g, ' ');
  if (note.length > MAX_REASON) {
    throw errorFor('input_invalid', {
      problem: 'reason_too_long',
      field: 'reason',
      length: note.length,
      max: MAX_REASON,
    });
  }
  return note;
}

/**
 * The role named, or the resource's first role when none is; `no_such_role` lists the roles.
 *
 * @example resolveRole(grafana, 'viewer').methods // ['GET', 'HEAD']
 */
export function resolveRole(resource: Resource, roleName?: string): Role {
  if (roleName === undefined || roleName === '') return resource.roles[0]!;
  const role = resource.roles.find((r) => r.name === roleName.toLowerCase());
  if (role) return role;
  throw errorFor('no_such_role', {
    resource: resource.name,
    role: roleName,
    roles: resource.roles.map((r) => r.name),
  });
}

/**
 * The duration to grant in ms: the resource's default when none was asked for; `duration_too_long`
 * (naming the maximum) above it, `duration_invalid` for zero or less.
 *
 * @example checkDuration(grafana, parseDuration('2h')) // 7_200_000
 */
export function checkDuration(resource: Resource, ms?: number): number {
  const wanted = ms ?? resource.defaultDurationMs;
  if (!Number.isFinite(wanted) || wanted <= 0) {
    throw errorFor('duration_invalid', { input: formatDuration(wanted), resource: resource.name });
  }
  if (wanted > resource.maxDurationMs) {
    throw errorFor('duration_too_long', {
      resource: resource.name,
      max: formatDuration(resource.maxDurationMs),
      asked: formatDuration(wanted),
    });
  }
  return wanted;
}

/**
 * More time on a grant that has `leftMs` to run: what is left plus `extraMs` stays within the
 * resource's maximum; `duration_too_long` (saying how much may still be asked for) otherwise.
 *
 * @example checkExtension(grafana, 3_600_000, 1_800_000) // 1_800_000 (with a 4h maximum)
 */
export function checkExtension(resource: Resource, leftMs: number, extraMs: number): number {
  if (leftMs + extraMs > resource.maxDurationMs) {
    throw errorFor('duration_too_long', {
      resource: resource.name,
      max: formatDuration(resource.maxDurationMs),
      asked: formatDuration(extraMs),
      left: formatDuration(leftMs),
      room: formatDuration(Math.max(0, resource.maxDurationMs - leftMs)),
    });
  }
  return extraMs;
}
