import type { Policy } from '../../shared/policy/index.js';

/**
 * Hosts and return URLs. Sign-in only ever sends a browser back to a URL jitgate built itself: a
 * path on the public URL's host or on a resource's own host (from the policy), with the public
 * URL's scheme and port. Never a caller-chosen target.
 */

/** A Host header as a bare lower-case host name: no port, no trailing dot. */
export function bareHost(host: string | undefined): string {
  const lower = (host ?? '').trim().toLowerCase();
  const withoutPort = lower.startsWith('[')
    ? lower.slice(0, lower.indexOf(']') + 1)
    : lower.replace(/:\d*$/, '');
  return withoutPort.endsWith('.') ? withoutPort.slice(0, -1) : withoutPort;
}

const hostsOfPolicy = new WeakMap<Policy, Map<string, Set<string>>>();

/** The hosts sign-in may return to: the public URL's, and each host-routed resource's. */
export function allowedHosts(publicUrl: URL, policy: Policy): Set<string> {
  // Computed once per policy (a reload makes a new Policy object); browsers ask on every page.
  let byPublicHost = hostsOfPolicy.get(policy);
  if (!byPublicHost) {
    byPublicHost = new Map();
    hostsOfPolicy.set(policy, byPublicHost);
  }
  const publicHost = bareHost(publicUrl.host);
  let hosts = byPublicHost.get(publicHost);
  if (!hosts) {
    hosts = new Set([publicHost]);
    for (const resource of policy.resources.values()) {
      if ('host' in resource.match) hosts.add(bareHost(resource.match.host));
    }
    byPublicHost.set(publicHost, hosts);
  }
  return hosts;
}

/** The origin of `host` as browsers reach it: the public URL's scheme and port. */
export function originOf(publicUrl: URL, host: string): string {
  return `${publicUrl.protocol}//${host}${publicUrl.port ? `:${publicUrl.port}` : ''}`;
}

export interface ReturnTo {
  host: string;
  /** Path and query, starting with exactly one `/`. */
  path: string;
  /** On another host than the sign-in host: the hash of that host's binding cookie (bind.ts). */
  bind?: string | undefined;
}

// Control characters (CR/LF among them) and backslashes anywhere; in the path part also encoded
// slashes, backslashes, dots and control characters: none belongs in a path jitgate sends a browser
// back to (the query may carry encoded slashes: it cannot name another origin).
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const UNSAFE_CHARS = /[\u0000-\u001f\u007f\\]/;
const UNSAFE_ENCODED = /%(?:2f|5c|2e|[01][0-9a-f]|7f)/i;

/** A path and query a browser may be sent back to on its own host, or undefined. */
export function safePath(path: string): string | undefined {
  const q = path.indexOf('?');
  const pathname = q === -1 ? path : path.slice(0, q);
  if (
    !path.startsWith('/') ||
    path.startsWith('//') ||
    path.length > 4096 ||
    UNSAFE_CHARS.test(path) ||
    UNSAFE_ENCODED.test(pathname)
  ) {
    return undefined;
  }
  // Resolving against a fixed origin must land on that origin with the same path: nothing in the
  // text may be read as an authority.
  const probe = new URL(path, 'http://jitgate.invalid');
  if (probe.origin !== 'http://jitgate.invalid') return undefined;
  return `${probe.pathname}${probe.search}`;
}

/**
 * The return target a `return` parameter names, when it is an absolute URL on an allowed host with
 * the public URL's scheme and port (or a bare path, taken as the public host's); else undefined.
 */
export function parseReturnTo(raw: string, publicUrl: URL, hosts: Set<string>): ReturnTo | undefined {
  if (raw === '' || UNSAFE_CHARS.test(raw)) return undefined;
  if (raw.startsWith('/')) {
    const path = safePath(raw);
    return path ? { host: bareHost(publicUrl.host), path } : undefined;
  }
  if (!URL.canParse(raw)) return undefined;
  const url = new URL(raw);
  if (url.protocol !== publicUrl.protocol || url.port !== publicUrl.port) return undefined;
  if (url.username || url.password || url.hash) return undefined;
  const host = bareHost(url.host);
  if (!hosts.has(host)) return undefined;
  // Check the path as it was written, not as URL normalised it.
  const written = raw.slice(raw.indexOf('/', raw.indexOf('//') + 2));
  const path = raw.indexOf('/', raw.indexOf('//') + 2) === -1 ? '/' : safePath(written);
  return path ? { host, path } : undefined;
}

/** The absolute URL of a return target. */
export function returnUrl(publicUrl: URL, to: ReturnTo): string {
  return `${originOf(publicUrl, to.host)}${to.path}`;
}
