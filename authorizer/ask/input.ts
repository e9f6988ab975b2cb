import { parseDuration } from '../../shared/duration.js';
import { isJitgateError } from '../../shared/errors.js';
import { checkDuration, checkReason, type Resource, resolveRole } from '../../shared/policy/index.js';

/** The request form's fields as typed (strings; a field sent twice or not at all reads as ''). */
export interface AskFields {
  resource: string;
  role: string;
  duration: string;
  reason: string;
  /** The path the person was refused at (hidden). */
  return: string;
  csrf: string;
}

export type CheckedAsk =
  | { ok: true; role: string; durationMs: number; reason: string }
  | { ok: false; field: 'role' | 'duration' | 'reason'; message: string };

/** The form's fields from a parsed urlencoded body. */
export function askFields(body: unknown): AskFields {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const field = (name: string) => (typeof b[name] === 'string' ? (b[name] as string) : '');
  return {
    resource: field('resource'),
    role: field('role'),
    duration: field('duration'),
    reason: field('reason'),
    return: field('return'),
    csrf: field('csrf'),
  };
}

/**
 * The form checked by the request rules the `/access` command and the modal use (role, duration,
 * reason), so that the same bad input gets the same sentence; an empty duration is the resource's
 * default. Whether this person may request the resource at all needs Slack (user groups): the bot's
 * side checks it when it files the request.
 *
 * @example checkAsk(grafana, { role: 'viewer', duration: '9h', … }) // { ok: false, field: 'duration', message: '… at most 4h …' }
 */
export function checkAsk(
  resource: Resource,
  fields: Pick<AskFields, 'role' | 'duration' | 'reason'>,
): CheckedAsk {
  let field: 'role' | 'duration' | 'reason' = 'role';
  try {
    const role = resolveRole(resource, fields.role);
    field = 'duration';
    const typed = fields.duration.trim();
    const durationMs = checkDuration(resource, typed === '' ? undefined : parseDuration(typed));
    field = 'reason';
    const reason = checkReason(fields.reason);
    return { ok: true, role: role.name, durationMs, reason };
  } catch (err) {
    if (!isJitgateError(err)) throw err;
    return { ok: false, field, message: err.message };
  }
}
