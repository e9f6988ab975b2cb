/**
 * The request target, judged as the upstream will see it. Routing and role globs work on the raw
 * path; anything an upstream could decode or normalise into a different path (an encoded dot, slash
 * or backslash, a dot segment, an empty segment) is refused here, before routing, so that what we
 * check is what the upstream serves.
 */

/** `%` not followed by two hex digits. */
const BAD_PERCENT = /%(?![0-9a-fA-F]{2})/;
/**
 * Encoded `.`, `/`, `\` and NUL, also encoded twice (`%252e`, for an upstream that decodes twice):
 * decoders disagree on them, so they are never passed on.
 */
const AMBIGUOUS_ENCODING = /%(?:25)?(?:2e|2f|5c|00)/i;
/**
 * A `.` or `..` segment, also with a `;param` suffix: some servlet containers strip `;…` before
 * normalising, turning `/public/..;/admin` into `/admin`.
 */
const DOT_SEGMENT = /(?:^|\/)\.\.?(?:(?:;|%3b)[^/]*)?(?:\/|$)/i;
/** Overlong UTF-8 (`%c0%ae` is a dot to some old decoders): never valid, so never passed on. */
const OVERLONG = /%c[01]/i;

/**
 * Why a request target is refused, or undefined when it is a plain origin-form path.
 *
 * @example requestTargetProblem('/grafana/%2e%2e/admin') // 'an encoded dot, slash, backslash or NUL'
 */
export function requestTargetProblem(url: string): string | undefined {
  // Origin-form only: absolute-form (`http://host/x`), authority-form (`host:443`) and `*` are refused.
  if (url.charCodeAt(0) !== 47 /* / */ || url.charCodeAt(1) === 47) {
    return url.startsWith('//') ? 'an empty path segment (//)' : 'a request target that is not a path';
  }
  if (url.includes('\0') || /%00/.test(url)) return 'a NUL character';
  if (url.includes('#')) return 'a fragment (#)';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  if (path.includes('\\')) return 'a backslash';
  if (path.includes('//')) return 'an empty path segment (//)';
  if (DOT_SEGMENT.test(path)) return 'a . or .. segment';
  if (path.includes('%')) {
    if (BAD_PERCENT.test(path)) return 'malformed percent-encoding';
    if (AMBIGUOUS_ENCODING.test(path)) return 'an encoded dot, slash, backslash or NUL';
    if (OVERLONG.test(path)) return 'an overlong UTF-8 encoding';
    try {
      decodeURIComponent(path);
    } catch {
      return 'malformed percent-encoding';
    }
  }
  return undefined;
}

/** The path without its query string, for logs and audit events (queries may carry secrets). */
export function pathOnly(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

const TOKEN_PARAMS = new Set(['token', 'access_token', 'jwt']);

/**
 * True when the query string names a token parameter (`token`, `access_token`, `jwt`; any case or
 * encoding; `;` counts as a separator too, as some upstream frameworks split on it).
 */
export function hasTokenInQuery(url: string): boolean {
  const q = url.indexOf('?');
  if (q === -1) return false;
  const query = url.slice(q + 1);
  if (!/token|jwt/i.test(query) && !query.includes('%')) return false;
  for (const part of query.split(';')) {
    for (const name of new URLSearchParams(part).keys()) {
      if (TOKEN_PARAMS.has(name.toLowerCase())) return true;
    }
  }
  return false;
}
