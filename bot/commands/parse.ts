import { z } from 'zod';
import { parseDuration } from '../../shared/duration.js';
import { type GrantId, GrantIdSchema, type RequestId, RequestIdSchema } from '../../shared/ids.js';

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

/** The right form of each usage, shown beside every error. */
export const USAGE = {
  request: '/access <resource>[/<role>] <duration> <reason…> [--break-glass]',
  revoke: '/access revoke <grant-id> [reason…]',
  cancel: '/access cancel <request-id>',
  extend: '/access extend <grant-id> <duration> [reason…]',
  any: '/access  ·  /access <resource>[/<role>] <duration> <reason…>  ·  /access list | resources | help | revoke <grant-id> | cancel <request-id> | extend <grant-id> <duration> [reason…]',
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
const Duration = z.string().transform((text, ctx) => {
  try {
    return parseDuration(text);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'is not a duration; write it like 30s, 15m, 2h, 1h30m or 1d' });
    return z.NEVER;
  }
});
const Reason = z.string().trim().min(1, 'say why you need access');

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

export function isCommandError(parsed: ParsedCommand | CommandError): parsed is CommandError {
  return 'error' in parsed;
}

function parseRevoke(args: string[]): ParsedCommand | CommandError {
  const [id, ...reason] = args;
  if (id === undefined) return fail('Say which grant to revoke.', USAGE.revoke);
  if (hasFlag(reason)) return fail('`--break-glass` only goes with a new request.', USAGE.revoke);
  const grantId = GrantIdSchema.safeParse(id.toLowerCase());
  if (!grantId.success)
    return fail(
      `\`${clip(id)}\` is not a grant id (it looks like g_ followed by 26 letters and digits).`,
      USAGE.revoke,
    );
  return { kind: 'revoke', grantId: grantId.data, reason: reason.join(' ') };
}

function parseCancel(args: string[]): ParsedCommand | CommandError {
  const [id, ...extra] = args;
  if (id === undefined) return fail('Say which request to cancel.', USAGE.cancel);
  const requestId = RequestIdSchema.safeParse(id.toLowerCase());
  if (!requestId.success)
    return fail(
      `\`${clip(id)}\` is not a request id (it looks like r_ followed by 26 letters and digits).`,
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
      `\`${clip(id)}\` is not a grant id (it looks like g_ followed by 26 letters and digits).`,
      USAGE.extend,
    );
  if (duration === undefined) return fail('Say how much longer you need, e.g. 30m or 1h.', USAGE.extend);
  const durationMs = Duration.safeParse(duration);
  if (!durationMs.success)
    return fail(`\`${clip(duration)}\` ${firstMessage(durationMs.error)}.`, USAGE.extend);
  return { kind: 'extend', grantId: grantId.data, durationMs: durationMs.data, reason: reason.join(' ') };
}

function parseRequest(words: string[]): ParsedCommand | CommandError {
  const breakGlass = hasFlag(words);
  const unknownFlag = words.find((w) => /^(?:--|—|–)/.test(w) && !BREAK_GLASS.test(w));
  if (unknownFlag)
    return fail(
      `\`${clip(unknownFlag)}\` is not an option; the only one is \`--break-glass\`.`,
      USAGE.request,
    );
  const [target, duration, ...reasonWords] = words.filter((w) => !BREAK_GLASS.test(w));
  if (target === undefined) return fail('Say which resource you need.', USAGE.request);
  if (duration === undefined) {
    const hint =
      words.length === 1 && !breakGlass
        ? ` \`${clip(target)}\` is not a command, and a request needs a duration and a reason.`
        : '';
    return fail(`Say how long you need access and why.${hint}`, `${USAGE.request}  (see /access help)`);
  }
  const [resourceText, roleText, ...more] = target.split('/');
  const resource = ResourceName.safeParse(resourceText ?? '');
  if (!resource.success || more.length > 0) {
    return fail(
      `\`${clip(target)}\` ${resource.success ? 'has more than one /' : firstMessage(resource.error)}.`,
      USAGE.request,
    );
  }
  let role: string | undefined;
  if (roleText !== undefined) {
    const parsedRole = RoleName.safeParse(roleText);
    if (!parsedRole.success)
      return fail(`\`${clip(roleText)}\` ${firstMessage(parsedRole.error)}.`, USAGE.request);
    role = parsedRole.data;
  }
  const durationMs = Duration.safeParse(duration);
  if (!durationMs.success)
    return fail(`\`${clip(duration)}\` ${firstMessage(durationMs.error)}.`, USAGE.request);
  const reason = Reason.safeParse(reasonWords.join(' '));
  if (!reason.success) {
    return fail(
      `Say why you need access, e.g. /access ${target} ${duration} INC-123 checking dashboards`,
      USAGE.request,
    );
  }
  return {
    kind: 'request',
    resource: resource.data,
    role,
    durationMs: durationMs.data,
    reason: reason.data,
    breakGlass,
  };
}

function hasFlag(words: string[]): boolean {
  return words.some((w) => BREAK_GLASS.test(w));
}

function firstMessage(error: z.ZodError): string {
  return error.issues[0]?.message ?? 'is not valid';
}

/** Quotes a bit of the user's input back without letting it grow the reply or break the formatting. */
function clip(word: string): string {
  const plain = word.replace(/`/g, "'");
  return plain.length > 40 ? `${plain.slice(0, 40)}…` : plain;
}

function fail(error: string, usage: string): CommandError {
  return { error, usage };
}
