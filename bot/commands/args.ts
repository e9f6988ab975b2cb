import { z } from 'zod';
import type { RequestAsk } from '../../shared/access/request.js';
import { parseDuration } from '../../shared/duration.js';
import { isJitgateError } from '../../shared/errors.js';
import { type GrantId, GrantIdSchema, type RequestId, RequestIdSchema } from '../../shared/ids.js';
import { quoted } from '../../shared/messages.js';
import { checkNote, checkReason } from '../../shared/policy/index.js';

/**
 * Readers for the words after `/access <sub-command>`, for the registry's parsers. Each returns the
 * value or throws an ArgumentRefusal saying what was wrong; the parser catches it and adds the
 * sub-command's form (or the one given here), so that no reader needs to know which form it serves.
 */

/** Bad input: what was wrong, and the form that would have worked. */
export interface CommandError {
  error: string;
  usage: string;
}

/** Type guard: the parse failed. */
export function isCommandError<T>(parsed: T | CommandError): parsed is CommandError {
  return typeof parsed === 'object' && parsed !== null && 'error' in parsed && 'usage' in parsed;
}

/** What a reader throws; `usage` only when a form other than the sub-command's own helps more. */
export class ArgumentRefusal extends Error {
  constructor(
    message: string,
    readonly usage?: string,
  ) {
    super(message);
  }
}

/** Refuses the words with this message. */
export function refuse(message: string, usage?: string): never {
  throw new ArgumentRefusal(message, usage);
}

/** A shared rule (shared/policy/rules.ts) applied to the words: its refusal, in its own words, is the parser's. */
export function byRule<T>(rule: () => T): T {
  try {
    return rule();
  } catch (err) {
    if (isJitgateError(err)) refuse(err.message);
    throw err;
  }
}

const BREAK_GLASS = /^(?:--|—|–)break-glass$/i;

/** Whether `--break-glass` (or the dash a phone's keyboard makes of it) is among the words. */
export function hasBreakGlass(words: readonly string[]): boolean {
  return words.some((w) => BREAK_GLASS.test(w));
}

/** The words without `--break-glass`; any other option is refused. */
export function withoutBreakGlass(words: readonly string[]): string[] {
  const unknown = words.find((w) => /^(?:--|—|–)/.test(w) && !BREAK_GLASS.test(w));
  if (unknown) refuse(`${quoted(unknown)} is not an option; the only one is \`--break-glass\`.`);
  return words.filter((w) => !BREAK_GLASS.test(w));
}

/** Refuses `--break-glass` where it does not belong (anything but a new request). */
export function noBreakGlass(words: readonly string[]): void {
  if (hasBreakGlass(words)) refuse('`--break-glass` only goes with a new request.');
}

/** For sub-commands that take nothing. */
export function nothingAfter(name: string, words: readonly string[]): Record<never, never> {
  if (words.length > 0) refuse(`\`${name}\` takes nothing after it.`);
  return {};
}

/** A grant id as pasted (any case); `missing` says what to give when there is none. */
export function grantIdArg(word: string | undefined, missing: string): GrantId {
  if (word === undefined) refuse(missing);
  const id = GrantIdSchema.safeParse(word.toLowerCase());
  if (!id.success)
    refuse(`${quoted(word)} is not a grant id (it looks like g_ followed by 26 letters and digits).`);
  return id.data;
}

/** A request id as pasted (any case). */
export function requestIdArg(word: string | undefined, missing: string): RequestId {
  if (word === undefined) refuse(missing);
  const id = RequestIdSchema.safeParse(word.toLowerCase());
  if (!id.success)
    refuse(`${quoted(word)} is not a request id (it looks like r_ followed by 26 letters and digits).`);
  return id.data;
}

/** A duration such as 30m or 1h30m (the shared rule's wording when it is not one). */
export function durationArg(word: string | undefined, missing: string): number {
  if (word === undefined) refuse(missing);
  return byRule(() => parseDuration(word));
}

/** An optional note (why revoke, why extend): the shared rule's length limit. */
export function noteArg(words: readonly string[]): string {
  return byRule(() => checkNote(words.join(' ')));
}

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

/** What a new request asks for. */
/** A one-line request: the use case's input without who asks; the parser always settles duration and break-glass. */
export type RequestArgs = RequestAsk & { durationMs: number; breakGlass: boolean };

/**
 * `<resource>[/<role>] <duration> <reason…> [--break-glass]`, the flag anywhere. `usage` is the
 * request form, shown with a pointer to help when the words are too few to be a request at all.
 */
export function requestArgs(words: readonly string[], usage: string): RequestArgs {
  const breakGlass = hasBreakGlass(words);
  const [target, duration, ...reasonWords] = withoutBreakGlass(words);
  if (target === undefined) refuse('Say which resource you need.');
  if (duration === undefined) {
    const hint =
      words.length === 1 && !breakGlass
        ? ` ${quoted(target)} is not a command, and a request needs a duration and a reason.`
        : '';
    refuse(`Say how long you need access and why.${hint}`, `${usage}  (see /access help)`);
  }
  const [resourceText, roleText, ...more] = target.split('/');
  const resource = ResourceName.safeParse(resourceText ?? '');
  if (!resource.success || more.length > 0) {
    refuse(`${quoted(target)} ${resource.success ? 'has more than one /' : firstMessage(resource.error)}.`);
  }
  let role: string | undefined;
  if (roleText !== undefined) {
    const parsedRole = RoleName.safeParse(roleText);
    if (!parsedRole.success) refuse(`${quoted(roleText)} ${firstMessage(parsedRole.error)}.`);
    role = parsedRole.data;
  }
  const durationMs = byRule(() => parseDuration(duration));
  const reason = byRule(() => checkReason(reasonWords.join(' ')));
  return { resource: resource.data, role, durationMs, reason, breakGlass };
}

function firstMessage(error: z.ZodError): string {
  return error.issues[0]?.message ?? 'is not valid';
}
