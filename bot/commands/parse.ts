import { z } from 'zod';
import { parseDuration } from '../../shared/duration.js';
import { isJitgateError } from '../../shared/errors.js';
import { type GrantId, GrantIdSchema, type RequestId, RequestIdSchema } from '../../shared/ids.js';
import { quoted } from '../../shared/messages.js';
import { checkNote, checkReason } from '../../shared/policy/index.js';

/** What `/access <text>` asks for, once its text has been checked. */
export type ParsedCommand =
  | { kind: 'modal' }
  | { kind: 'help' }
  | { kind: 'list' }
  | { kind: 'resources' }
  | { kind: 'revoke'; grantId: GrantId; reason: string }
  | { kind: 'cancel'; requestId: RequestId }
  | { kind: 'extend'; grantId: GrantId; durationMs: number; reason: string }
  | {
      kind: 'request';
      resource: string;
      role: string | undefined;
      durationMs: number;
      reason: string;
      breakGlass: boolean;
    };

/** Bad input: what was wrong, and the form that would have worked. */
export interface CommandError {
  error: string;
  usage: string;
}

/** The right form of each `/access` usage (DESIGN.md lists them), shown beside every error and in help. */
export const USAGE = {
  modal: '/access',
  request: '/access <resource>[/<role>] <duration> <reason…>',
  breakGlass: '/access <resource> <duration> <reason…> --break-glass',
  list: '/access list',
  resources: '/access resources',
  revoke: '/access revoke <grant-id> [reason…]',
  cancel: '/access cancel <request-id>',
  extend: '/access extend <grant-id> <duration> [reason…]',
  help: '/access help',
} as const;

const BREAK_GLASS = /^(?:--|—|–)break-glass$/i;

// Policy names are lowercase; `/access Grafana …` means grafana.
const NAME = /^[a-z0-9][a-z0-9_-]{0,39}$/;
const ResourceName = z
  .string()
  .transform((s) => s.toLowerCase())
  .pipe(z.string().regex(NAME, 'is not a resource name (letters, digits, - and _)'));
const RoleName = z
  .string()
  .transform((s) => s.toLowerCase())
  .pipe(z.string().regex(NAME, 'is not a role name (letters, digits, - and _)'));

/**
 * Parses the text after `/access`. Never throws: bad input comes back as `{ error, usage }`.
 *
 * @example parseAccessCommand('grafana/viewer 2h INC-123 dashboards')
 *   // { kind: 'request', resource: 'grafana', role: 'viewer', durationMs: 7_200_000, reason: 'INC-123 dashboards', breakGlass: false }
 */
export function parseAccessCommand(text: string): ParsedCommand | CommandError {
  const words = (text ?? '').split(/\s+/u).filter((w) => w.length > 0);
  const [first, ...rest] = words;
  if (first === undefined) return { kind: 'modal' };
  const sub = first.toLowerCase();
  switch (sub) {
    case 'help':
      return { kind: 'help' };
    case 'list':
    case 'resources':
      return rest.length === 0 ? { kind: sub } : fail(`\`${sub}\` takes nothing after it.`, `/access ${sub}`);
    case 'revoke':
      return parseRevoke(rest);
    case 'cancel':
      return parseCancel(rest);
    case 'extend':
      return parseExtend(rest);
    default:
      return parseRequest(words);
  }
}

/** Type guard: the parse failed. */
export function isCommandError<T>(parsed: T | CommandError): parsed is CommandError {
  return typeof parsed === 'object' && parsed !== null && 'error' in parsed && 'usage' in parsed;
}

function parseRevoke(args: string[]): ParsedCommand | CommandError {
  const [id, ...reason] = args;
  if (id === undefined) return fail('Say which grant to revoke.', USAGE.revoke);
  if (hasFlag(reason)) return fail('`--break-glass` only goes with a new request.', USAGE.revoke);
  const grantId = GrantIdSchema.safeParse(id.toLowerCase());
  if (!grantId.success)
    return fail(
      `${quoted(id)} is not a grant id (it looks like g_ followed by 26 letters and digits).`,
      USAGE.revoke,
    );
  const note = byRule(() => checkNote(reason.join(' ')), USAGE.revoke);
  if (isCommandError(note)) return note;
  return { kind: 'revoke', grantId: grantId.data, reason: note };
}

function parseCancel(args: string[]): ParsedCommand | CommandError {
  const [id, ...extra] = args;
  if (id === undefined) return fail('Say which request to cancel.', USAGE.cancel);
  const requestId = RequestIdSchema.safeParse(id.toLowerCase());
  if (!requestId.success)
    return fail(
      `${quoted(id)} is not a request id (it looks like r_ followed by 26 letters and digits).`,
      USAGE.cancel,
    );
  if (extra.length > 0) return fail('`cancel` takes only the request id.', USAGE.cancel);
  return { kind: 'cancel', requestId: requestId.data };
}

function parseExtend(args: string[]): ParsedCommand | CommandError {
  const [id, duration, ...reason] = args;
  if (id === undefined) return fail('Say which grant to extend and by how long.', USAGE.extend);
  if (hasFlag(args)) return fail('`--break-glass` only goes with a new request.', USAGE.extend);
  const grantId = GrantIdSchema.safeParse(id.toLowerCase());
  if (!grantId.success)
    return fail(
      `${quoted(id)} is not a grant id (it looks like g_ followed by 26 letters and digits).`,
      USAGE.extend,
    );
  if (duration === undefined) return fail('Say how much longer you need, e.g. 30m or 1h.', USAGE.extend);
  const durationMs = byRule(() => parseDuration(duration), USAGE.extend);
  if (isCommandError(durationMs)) return durationMs;
  const note = byRule(() => checkNote(reason.join(' ')), USAGE.extend);
  if (isCommandError(note)) return note;
  return { kind: 'extend', grantId: grantId.data, durationMs, reason: note };
}

function parseRequest(words: string[]): ParsedCommand | CommandError {
  const breakGlass = hasFlag(words);
  const unknownFlag = words.find((w) => /^(?:--|—|–)/.test(w) && !BREAK_GLASS.test(w));
  if (unknownFlag)
    return fail(`${quoted(unknownFlag)} is not an option; the only one is \`--break-glass\`.`, USAGE.request);
  const [target, duration, ...reasonWords] = words.filter((w) => !BREAK_GLASS.test(w));
  if (target === undefined) return fail('Say which resource you need.', USAGE.request);
  if (duration === undefined) {
    const hint =
      words.length === 1 && !breakGlass
        ? ` ${quoted(target)} is not a command, and a request needs a duration and a reason.`
        : '';
    return fail(`Say how long you need access and why.${hint}`, `${USAGE.request}  (see /access help)`);
  }
  const [resourceText, roleText, ...more] = target.split('/');
  const resource = ResourceName.safeParse(resourceText ?? '');
  if (!resource.success || more.length > 0) {
    return fail(
      `${quoted(target)} ${resource.success ? 'has more than one /' : firstMessage(resource.error)}.`,
      USAGE.request,
    );
  }
  let role: string | undefined;
  if (roleText !== undefined) {
    const parsedRole = RoleName.safeParse(roleText);
    if (!parsedRole.success)
      return fail(`${quoted(roleText)} ${firstMessage(parsedRole.error)}.`, USAGE.request);
    role = parsedRole.data;
  }
  const durationMs = byRule(() => parseDuration(duration), USAGE.request);
  if (isCommandError(durationMs)) return durationMs;
  const reason = byRule(() => checkReason(reasonWords.join(' ')), USAGE.request);
  if (isCommandError(reason)) return reason;
  return { kind: 'request', resource: resource.data, role, durationMs, reason, breakGlass };
}

function hasFlag(words: string[]): boolean {
  return words.some((w) => BREAK_GLASS.test(w));
}

function firstMessage(error: z.ZodError): string {
  return error.issues[0]?.message ?? 'is not valid';
}

/** A shared rule's verdict: its value, or its message with the form to use instead. */
function byRule<T>(rule: () => T, usage: string): T | CommandError {
  try {
    return rule();
  } catch (err) {
    if (isJitgateError(err)) return fail(err.message, usage);
    throw err;
  }
}

function fail(error: string, usage: string): CommandError {
  return { error, usage };
}
