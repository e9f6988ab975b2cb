import { formatDuration } from './duration.js';
import type { ErrorCode, ErrorFields } from './errors.js';
import type { TokenFailure } from './tokens/verifier.js';

/**
 * What each error code says to the person who meets it, in one place: the use cases, the store, the
 * policy rules, the bot and the authorizer all build their errors from here (`errorFor` in
 * errors.ts), so one code reads the same wherever it is raised. Each entry is one sentence with
 * the error's fields filled in (plain text: Slack replies escape it, forms show it as is).
 * Operator errors (config_invalid, policy_invalid, keys_invalid) carry the full report their
 * module writes at start-up; their entry is what a person would be told elsewhere.
 */
export const MESSAGES: { readonly [C in ErrorCode]: (fields: ErrorFields) => string } = {
  config_invalid: () =>
    'jitgate is not configured correctly; tell the jitgate operators (its log says what to fix).',
  policy_invalid: () =>
    'The access policy is not valid; tell the jitgate operators (`npm run policy -- check` says what to fix).',
  keys_invalid: () => 'jitgate’s signing keys are not valid; tell the jitgate operators.',

  // One code for input that cannot be used; `fields.problem` says which (INPUT_PROBLEMS below).
  input_invalid: (f) => (INPUT_PROBLEMS[f.problem as InputProblem] ?? INPUT_PROBLEMS.unreadable)(f),
  duration_invalid: (f) =>
    `${quoted(text(f.input) ?? '')} is not a duration; write it like 30s, 15m, 2h, 1h30m or 1d.`,
  duration_too_long: (f) =>
    `${text(f.resource) ?? 'This resource'} allows at most ${text(f.max) ?? 'its maximum'} of access at a time; ` +
    (f.left !== undefined
      ? `this grant has ${text(f.left)} left, so ask for at most ${text(f.room) ?? 'the rest'}.`
      : `you asked for ${text(f.asked) ?? 'more'}.`),
  no_such_resource: (f) =>
    `There is no resource ${f.resource !== undefined ? `"${text(f.resource)}"` : 'at this address'}.` +
    `${f.known !== undefined ? ` Known resources: ${text(f.known)}.` : ''} See /access resources.`,
  no_such_role: (f) =>
    `${text(f.resource) ?? 'This resource'} has no role "${text(f.role) ?? ''}".` +
    (f.roles !== undefined ? ` Its roles: ${text(f.roles)}.` : ''),
  // Asking for more time on a grant (fields.grantId) is a request too, open to its holder only.
  not_allowed_to_request: (f) =>
    f.grantId !== undefined
      ? `Only the holder of grant ${text(f.grantId)} can ask to extend it.`
      : `You may not request ${text(f.resource) ?? 'this'}; ask its approvers.`,
  break_glass_not_allowed: (f) =>
    `${text(f.resource) ?? 'This resource'} does not allow --break-glass; file a normal request` +
    (f.command !== undefined ? `: ${text(f.command)}` : '.'),
  // A resource with requireEmail: the upstream knows people by e-mail, and Slack gave none.
  email_required: (f) =>
    `${text(f.resource) ?? 'This resource'} needs your e-mail address, and Slack gives jitgate none for you ` +
    '(your profile has no e-mail, or Slack could not be asked just now): nothing was filed. ' +
    'Add an e-mail address to your Slack profile, or ask the jitgate operators.',
  // fields.scope: 'person' (all their undecided requests) or 'resource'; fields.pending: those requests.
  too_many_pending: (f) =>
    (f.scope === 'resource'
      ? `You already have ${count(f.pending, 'a request')} for ${text(f.resource) ?? 'this resource'} waiting for a decision` +
        ` (at most ${text(f.limit) ?? 1} at a time): ${pendingList(f.pending)}.`
      : `You already have ${count(f.pending, 'a request')} waiting for a decision, the most jitgate takes from one person` +
        ` at a time (${text(f.limit) ?? '?'}): ${pendingList(f.pending)}.`) +
    ` Nothing was filed. Cancel one you no longer need with \`/access cancel <request-id>\` (or its Cancel button in` +
    ' App Home), or wait: each ends when it is approved or denied, or after its timeout.',
  extension_pending: (f) => {
    const id = firstPendingId(f.pending);
    return (
      `${f.grantId !== undefined ? `Grant ${text(f.grantId)}` : 'This grant'} already has an extension waiting for a decision` +
      `${id ? ` (${id})` : ''}: nothing was filed. Wait for it, or cancel it with \`/access cancel ${id ?? '<request-id>'}\` and ask again.`
    );
  },
  // The extension would add nothing: the grant already has the resource's maxDuration (or nearly) left.
  extension_at_maximum: (f) =>
    `${f.grantId !== undefined ? `Grant ${text(f.grantId)}` : 'This grant'} already has ${ms(f.leftMs) ?? 'the most time'} left, ` +
    `and its resource allows at most ${ms(f.maxMs) ?? 'that'} at a time: nothing was added. ` +
    'Try again once some of that time has passed.',

  no_such_request: () => 'There is no such request (it may have been cleaned up long ago).',
  request_exists: () => 'A request with this id already exists.',
  no_such_grant: (f) => `There is no ${f.grantId !== undefined ? `grant ${text(f.grantId)}` : 'such grant'}.`,
  request_not_pending: (f) =>
    `This request has already been decided${f.detail !== undefined ? ` (${text(f.detail)})` : ''}.`,
  not_an_approver: (f) => `You are not an approver of ${text(f.resource) ?? 'this resource'}.`,
  self_approval: () => 'You cannot approve your own request.',
  not_allowed_to_revoke: () =>
    'Only the holder, an approver of this resource or an admin can revoke this grant.',
  not_allowed_to_cancel: () => 'Only the person who asked can cancel a request.',
  step_up_required: (f) =>
    `Approvals of ${text(f.resource) ?? 'this resource'} count only once confirmed in your browser with a fresh sign-in: use the Approve button, then Confirm on the page it opens.`,
  not_break_glass: (f) =>
    `${f.grantId !== undefined ? `Grant ${text(f.grantId)}` : 'This grant'} was not a break-glass grant: only those are reviewed.`,
  not_allowed_to_review: (f) =>
    `Only an approver of ${text(f.resource) ?? 'the resource'} or an admin, other than the person who broke glass, can review this grant.`,
  grant_not_active: (f) =>
    `${f.grantId !== undefined ? `Grant ${text(f.grantId)}` : 'This grant'} is no longer active` +
    (f.detail === 'revoked' ? ' (it was revoked).' : f.detail === 'expired' ? ' (it has expired).' : '.'),
  code_unknown: () => 'This redeem link is unknown or has expired.',
  code_used: () => 'This redeem link has already been used.',
  not_the_holder: (f) =>
    `This link was sent to someone else${f.signedInAs !== undefined ? `, not to you (signed in as ${text(f.signedInAs)})` : ''}: nothing was used, and its holder has been told.`,
  // With sign-in on, a redeem link is its holder's only, from a browser signed in as them.
  signin_required: () =>
    'This redeem link works only in a browser signed in as the person it was sent to: nothing was used.',

  token_missing: () => 'You need an access token for this service.',
  token_invalid: (f) =>
    f.reason === 'audience' && f.audience !== undefined
      ? `The access token is for another resource (${text(f.audience)}, not ${text(f.expected)}).`
      : (TOKEN_PROBLEMS[f.reason as TokenFailure] ?? 'The access token is not valid.'),
  token_expired: () => 'Your access token has expired.',
  grant_revoked: () => 'Your access was revoked.',
  grant_expired: () => 'Your access has expired.',
  no_grant: (f) =>
    f.resource !== undefined
      ? `You have no access to ${text(f.resource)}.`
      : 'You have no access to this service.',
  wrong_resource: () => 'This access token is for another service.',
  method_not_allowed: () => 'Your role does not allow this request.',
  network_not_allowed: () => 'This service cannot be reached from your network address.',
  // fields.problem: what requestTargetProblem found in the path.
  bad_path: (f) =>
    f.problem !== undefined
      ? `The request path has ${text(f.problem)}; it was refused.`
      : 'The request path is ambiguous (encoded separators, dot segments or the like); it was refused.',

  unavailable: () => 'jitgate cannot reach its state store right now; try again shortly.',
  // fields.what: the change (e.g. "The revocation"); fields.timeoutMs: how long jitgate waited.
  not_replicated: (f) =>
    `${text(f.what) ?? 'The change'} is in effect, but no Redis replica confirmed it within ${text(f.timeoutMs) ?? 'a'} ms: a failover now could undo it. Do it again to be sure.`,
};

/** What exactly was wrong with an `input_invalid` input (its `fields.problem`), each worded once. */
export const INPUT_PROBLEMS = {
  unreadable: (f: ErrorFields) => `jitgate could not read this ${text(f.what) ?? 'input'}; try again.`,
  stale_button: () => 'This button carries no valid id; it may belong to an old message.',
  reason_missing: () => 'Say why you need access, e.g. INC-123 checking dashboards.',
  reason_pattern: (f: ErrorFields) =>
    `The reason for ${text(f.resource) ?? 'this resource'} must match ${text(f.pattern) ?? 'its pattern'} ` +
    `(usually a ticket id first, like INC-123); try again: ${text(f.command) ?? '/access'} <ticket> <what you will do>.`,
  reason_pattern_slow: (f: ErrorFields) =>
    `Checking the reason against ${text(f.pattern) ?? 'its pattern'} took too long, so it was refused: ` +
    `the reasonPattern of ${text(f.resource) ?? 'this resource'} backtracks on some reasons. ` +
    'Tell the jitgate operators to simplify it (no repeated group inside a repeated group, no overlapping alternatives); a plain ticket id first usually passes.',
  reason_too_long: (f: ErrorFields) =>
    `The reason is too long (${text(f.length) ?? 'too many'} characters); keep it to ${text(f.max) ?? 500} at most.`,
} as const;

export type InputProblem = keyof typeof INPUT_PROBLEMS;

/** Why an access token is not valid (a `token_invalid` error's `fields.reason`), each worded once. */
export const TOKEN_PROBLEMS: { readonly [R in TokenFailure]: string } = {
  malformed: 'The access token is not a well-formed JWT.',
  signature: 'The access token signature does not verify.',
  algorithm: 'The access token uses an algorithm jitgate does not accept.',
  unknown_kid: 'The access token was signed with a key jitgate does not know (it may have been retired).',
  issuer: 'The access token was issued by someone else.',
  audience: 'The access token is for another resource.',
  not_yet_valid: 'The access token is not valid yet.',
  claims: 'The access token is missing a claim or has one of the wrong shape.',
  type: 'This is not a jitgate access token.',
  header: 'The access token header carries parameters jitgate refuses.',
  too_large: 'The access token is too large.',
};

/**
 * The catalogue's sentence for `code` with `fields` filled in.
 *
 * @example messageOf('grant_not_active', { grantId: 'g_…', detail: 'revoked' })
 *   // 'Grant g_… is no longer active (it was revoked).'
 */
export function messageOf(code: ErrorCode, fields: ErrorFields = {}): string {
  return MESSAGES[code](fields);
}

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

/** `3 requests` from a list (or `one` for a single one). */
function count(list: unknown, one: string): string {
  const n = Array.isArray(list) ? list.length : 0;
  return n === 1 ? one : `${n} requests`;
}

/** The pending requests a refusal names (`{id, resource, kind, grantId?}` each), as `r_… (grafana)`. */
function pendingList(list: unknown): string {
  if (!Array.isArray(list)) return 'see /access list';
  return list
    .map((p) => {
      const e = (p ?? {}) as Record<string, unknown>;
      const what = e.kind === 'extension' ? `more time on ${text(e.grantId) ?? 'a grant'}` : text(e.resource);
      return `${text(e.id) ?? '?'} (${what ?? '?'})`;
    })
    .join(', ');
}

function firstPendingId(list: unknown): string | undefined {
  const first = Array.isArray(list) ? ((list[0] ?? {}) as Record<string, unknown>) : {};
  return text(first.id);
}

/** A duration field in ms as people write it (`1h30m`). */
function ms(value: unknown): string | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? formatDuration(Math.max(0, value)) : undefined;
}

/** A field as text; fields can hold anything a caller passed (even what String() refuses), so only plain values are shown. */
function text(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    default:
      return Array.isArray(value) ? value.map((v) => text(v) ?? '?').join(', ') : undefined;
  }
}
