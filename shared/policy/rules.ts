import { formatDuration, parseDuration } from '../duration.js';
import { JitgateError } from '../errors.js';
import type { Resource, Role } from './types.js';

/**
 * The rules a request must meet, in one place: the `/access` parser, the request and deny forms and
 * the use cases all call these, so that the same bad input gets the same message wherever it is
 * typed. Each rule returns the checked value or throws a JitgateError whose message is written for
 * the person (plain text: a form shows it as is, a Slack reply escapes it).
 */

/** The longest reason (or note on a denial or revocation) jitgate keeps, in characters. */
export const MAX_REASON = 500;

/**
 * A piece of what someone typed, quoted back to them: at most 40 characters, and backticks
 * replaced so that it cannot break the formatting of the reply it appears in.
 *
 * @example quoted('tomorrow') // '`tomorrow`'
 */
export function quoted(word: string): string {
  const plain = word.replace(/`/g, "'");
  return `\`${plain.length > 40 ? `${plain.slice(0, 40)}…` : plain}\``;
}

/**
 * A duration as typed (`30s`, `15m`, `2h`, `1h30m`, `1d`) in ms; `duration_invalid` otherwise
 * (zero included).
 *
 * @example readDuration('1h30m') // 5_400_000
 */
export function readDuration(text: string): number {
  try {
    return parseDuration(text);
  } catch {
    throw new JitgateError(
      'duration_invalid',
      `${quoted(text)} is not a duration; write it like 30s, 15m, 2h, 1h30m or 1d.`,
      { input: text },
    );
  }
}

/**
 * Why someone needs access: required, spaces collapsed, at most MAX_REASON characters;
 * `input_invalid` (field `reason`) otherwise.
 *
 * @example checkReason('  INC-123\n dashboards ') // 'INC-123 dashboards'
 */
export function checkReason(text: string): string {
  const reason = checkNote(text);
  if (reason.length === 0) {
    throw new JitgateError('input_invalid', 'Say why you need access, e.g. INC-123 checking dashboards.', {
      field: 'reason',
    });
  }
  return reason;
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
    throw new JitgateError(
      'input_invalid',
      `The reason is too long (${note.length} characters); keep it to ${MAX_REASON} at most.`,
      { field: 'reason' },
    );
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
  throw new JitgateError(
    'no_such_role',
    `${resource.name} has no role "${roleName}". Its roles: ${resource.roles.map((r) => r.name).join(', ')}.`,
    { resource: resource.name, role: roleName },
  );
}

/**
 * The duration to grant in ms: the resource's default when none was asked for; `duration_too_long`
 * (naming the maximum) above it, `duration_invalid` for zero or less.
 *
 * @example checkDuration(grafana, readDuration('2h')) // 7_200_000
 */
export function checkDuration(resource: Resource, ms?: number): number {
  const wanted = ms ?? resource.defaultDurationMs;
  if (!Number.isFinite(wanted) || wanted <= 0) {
    throw new JitgateError('duration_invalid', 'Ask for a duration longer than zero, like 30m or 2h.', {
      resource: resource.name,
    });
  }
  if (wanted > resource.maxDurationMs) {
    throw new JitgateError(
      'duration_too_long',
      `${resource.name} allows at most ${formatDuration(resource.maxDurationMs)}; you asked for ${formatDuration(wanted)}.`,
      { resource: resource.name, maxMs: resource.maxDurationMs },
    );
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
    throw new JitgateError(
      'duration_too_long',
      `${resource.name} allows at most ${formatDuration(resource.maxDurationMs)} of access at a time; ` +
        `this grant has ${formatDuration(leftMs)} left, so ask for at most ` +
        `${formatDuration(Math.max(0, resource.maxDurationMs - leftMs))}.`,
      { resource: resource.name, maxMs: resource.maxDurationMs },
    );
  }
  return extraMs;
}
