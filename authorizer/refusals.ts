import { formatDuration } from '../shared/duration.js';
import type { ErrorCode } from '../shared/errors.js';
import { messageOf } from '../shared/messages.js';
import { type Resource, roleAllows, takesBrowserCookies } from '../shared/policy/index.js';

/** The shared refusal codes, plus what can go wrong between the authorizer and an upstream. */
export type RefusalCode = ErrorCode | 'upstream_unreachable' | 'upstream_timeout' | 'internal_error';

/** The body of every refusal: `{error, message, hint}` (DESIGN.md, "Authorizer HTTP surface"). */
export interface Refusal {
  code: RefusalCode;
  message: string;
  /** What to type or do next, e.g. `/access grafana/viewer 1h <reason>`. */
  hint: string;
}

/** What a refusal is about, so that its hint names the right resource, role and command. */
export interface HintContext {
  resource?: Resource | undefined;
  /** The role the token was for, when known. */
  role?: string | undefined;
  method?: string | undefined;
  path?: string | undefined;
  /** Sign-in is on: a redeem link then gives its token only in the holder's signed-in browser. */
  signIn?: boolean | undefined;
  /** A WebSocket upgrade: the hint names a role that may open one. */
  websocket?: boolean | undefined;
}

const STATUS: Partial<Record<RefusalCode, number>> = {
  bad_path: 400,
  input_invalid: 400,
  token_missing: 401,
  token_invalid: 401,
  token_expired: 401,
  grant_revoked: 401,
  grant_expired: 401,
  no_grant: 403,
  wrong_resource: 403,
  method_not_allowed: 403,
  network_not_allowed: 403,
  no_such_resource: 404,
  code_unknown: 404,
  code_used: 410,
  not_the_holder: 403,
  signin_required: 401,
  grant_not_active: 410,
  upstream_unreachable: 502,
  unavailable: 503,
  upstream_timeout: 504,
};

/** The HTTP status of a refusal code: one pure mapping; anything unknown is a 500. */
export function statusFor(code: RefusalCode): number {
  return STATUS[code] ?? 500;
}

// The shared codes read as the catalogue words them (shared/messages.ts); these are the authorizer's own.
const OWN_MESSAGES: Record<Exclude<RefusalCode, ErrorCode>, string> = {
  upstream_unreachable: 'The service behind jitgate did not answer.',
  upstream_timeout: 'The service behind jitgate took too long to answer.',
  internal_error: 'jitgate could not handle this request.',
};

function defaultMessage(code: RefusalCode): string {
  return code in OWN_MESSAGES
    ? OWN_MESSAGES[code as keyof typeof OWN_MESSAGES]
    : messageOf(code as ErrorCode);
}

/**
 * A refusal with its default message (or the one given) and a hint for the person reading it.
 *
 * @example refusal('token_missing', { resource }) // hint: '/access grafana/viewer 1h <reason>'
 */
export function refusal(code: RefusalCode, context: HintContext = {}, message?: string): Refusal {
  return {
    code,
    message: message ?? defaultMessage(code),
    hint: hintFor(code, context),
  };
}

/** The Slack command that asks for access: exactly what the person should type. */
export function accessCommand(resource: Resource, roleName?: string): string {
  const role = resource.roles.find((r) => r.name === roleName) ?? resource.roles[0];
  const duration = formatDuration(resource.defaultDurationMs);
  return `/access ${resource.name}${role ? `/${role.name}` : ''} ${duration} <reason>`;
}

function hintFor(
  code: RefusalCode,
  { resource, role, method, path, signIn, websocket }: HintContext,
): string {
  switch (code) {
    case 'token_missing':
      if (resource?.kind === 'postgres') {
        return `Send your jitgate access token as the password (PGPASSWORD); npm run psql -- '<your redeem link>' connects you. No grant yet? ${accessCommand(resource, role)}`;
      }
      if (resource && !takesBrowserCookies(resource)) {
        const redeem = signIn
          ? 'your redeem link, opened in a browser signed in as yourself, shows the token.'
          : `curl -H 'Accept: application/json' '<your redeem link>' gives the token.`;
        return (
          `${resource.name} takes bearer tokens only: send Authorization: Bearer <token>; ${redeem} ` +
          `No grant yet? ${accessCommand(resource, role)}`
        );
      }
      return resource ? accessCommand(resource, role) : '/access resources';
    case 'token_invalid':
    case 'token_expired':
    case 'grant_revoked':
    case 'grant_expired':
    case 'no_grant':
      return resource ? accessCommand(resource, role) : '/access resources';
    case 'wrong_resource':
      return resource ? accessCommand(resource) : '/access resources';
    case 'method_not_allowed': {
      if (!resource) return '/access resources';
      const fitting = websocket
        ? resource.roles.find((r) => r.websocket === true)
        : method && path
          ? resource.roles.find((r) => roleAllows(r, method, path))
          : undefined;
      return fitting
        ? accessCommand(resource, fitting.name)
        : `No role of ${resource.name} allows this; ask its approvers (/access resources).`;
    }
    case 'network_not_allowed':
      return resource && resource.networks.length > 0
        ? `Connect from an allowed network (${resource.networks.join(', ')}), then retry.`
        : 'Connect from an allowed network, then retry.';
    case 'no_such_resource':
      return '/access resources';
    case 'bad_path':
      return 'Request the plain path: no encoded /, . or \\, no // and no . or .. segments.';
    case 'not_the_holder':
      return resource
        ? `For access of your own, type ${accessCommand(resource)} in Slack.`
        : 'For access of your own, type /access in Slack.';
    case 'signin_required':
      return (
        'Open the link in a browser signed in as yourself (the person it was sent to): ' +
        'it then shows your token once, with the commands that use it.'
      );
    case 'code_used':
    case 'code_unknown':
    case 'grant_not_active':
      return '/access list';
    default:
      return 'Retry in a few seconds; if it keeps failing, tell the jitgate operators.';
  }
}
