import type { IncomingHttpHeaders } from 'node:http';
import type { Resource } from '../../shared/policy/index.js';
import { COOKIE_PREFIX } from '../checks/credential.js';
import type { PublicAddress } from './public-address.js';

/**
 * What an upstream's answer may not say on the authorizer's behalf, fixed in place before the
 * client sees it (HTTP answers, an upgrade's 101, and a refused upgrade's answer alike):
 *
 * - no `Set-Cookie` for one of jitgate's own cookies (every name starting `jitgate_`, in any case,
 *   behind `__Host-`/`__Secure-`, or as a nameless cookie whose value reads as one): otherwise one
 *   upstream could plant, replace or delete another resource's access cookie, or the session;
 * - `Location`, `Content-Location` and `Refresh` URLs that point at the upstream's internal address
 *   (same scheme, host and port as `upstream`, under its path) are rewritten to the resource's
 *   public address, as reverse proxies do by default; every other URL is left alone.
 *
 * - no `Clear-Site-Data` directive that deletes cookies (`"cookies"`, `"*"`): browsers delete every
 *   cookie of the site, jitgate's access cookies and session included, which is what the Set-Cookie
 *   rule forbids (its other directives, such as `"cache"`, are kept);
 * - no `Service-Worker-Allowed` from a pathPrefix resource, which shares the authorizer's origin:
 *   it would let the upstream's service worker take the whole origin and see every page loaded
 *   there (a step-up confirmation or redeem link's one-time code among them); without it a worker
 *   registered from `/app/` stays under `/app/`; nor `NEL` and `Report-To` from one, a Network Error
 *   Logging policy of the whole origin that would report the URL of every later request there.
 *
 * Answers the names of the cookies removed (never their values), for the log.
 *
 * @example const dropped = ownResponseHeaders(proxyRes.headers, resource, publicAddressOf(resource));
 */
export function ownResponseHeaders(
  headers: IncomingHttpHeaders,
  resource: Resource,
  address: PublicAddress,
): string[] {
  const dropped = dropOurCookies(headers);
  dropBrowserStateReach(headers, resource);
  const internal = internalAddressOf(resource);
  if (internal === undefined) return dropped;
  const rewrite = (url: string) => toPublic(url, internal, address);
  if (typeof headers.location === 'string') headers.location = rewrite(headers.location);
  const contentLocation = headers['content-location'];
  if (typeof contentLocation === 'string') headers['content-location'] = rewrite(contentLocation);
  const refresh = headers.refresh;
  if (typeof refresh === 'string') headers.refresh = rewriteRefresh(refresh, rewrite);
  return dropped;
}

function dropOurCookies(headers: IncomingHttpHeaders): string[] {
  const cookies = headers['set-cookie'];
  if (cookies === undefined) return [];
  const dropped: string[] = [];
  const kept = cookies.filter((cookie) => {
    const name = cookieNameSeen(cookie);
    if (!isOurs(name)) return true;
    dropped.push(name.slice(0, 64));
    return false;
  });
  if (kept.length === 0) delete headers['set-cookie'];
  else headers['set-cookie'] = kept;
  return dropped;
}

function dropBrowserStateReach(headers: IncomingHttpHeaders, resource: Resource): void {
  if (!('host' in resource.match)) for (const name of ORIGIN_WIDE) delete headers[name];
  const clear = headers['clear-site-data'];
  if (clear === undefined) return;
  const kept = String(clear)
    .split(',')
    .map((d) => d.trim())
    .filter((d) => d !== '' && !CLEARS_COOKIES.has(d.replace(/^"|"$/g, '').toLowerCase()));
  if (kept.length === 0) delete headers['clear-site-data'];
  else headers['clear-site-data'] = kept.join(', ');
}

const CLEARS_COOKIES = new Set(['cookies', '*']);

/** Answer headers that set policy for the whole origin, not the one answer (see ownResponseHeaders). */
const ORIGIN_WIDE = ['service-worker-allowed', 'nel', 'report-to'] as const;

/**
 * The name a browser files the cookie under, lower-cased. A cookie without a name (`=jitgate_app=x`,
 * or no `=` at all) is sent back as its bare value, which a server reads as `jitgate_app=x`: for
 * such a cookie the value's own name part counts.
 */
function cookieNameSeen(setCookie: string): string {
  const pair = setCookie.split(';', 1)[0] ?? '';
  const eq = pair.indexOf('=');
  let name = (eq === -1 ? '' : pair.slice(0, eq)).trim();
  if (name === '') {
    const value = (eq === -1 ? pair : pair.slice(eq + 1)).trim();
    name = value.split('=', 1)[0]!.trim();
  }
  return name.toLowerCase();
}

function isOurs(lowerName: string): boolean {
  let name = lowerName;
  // `__Host-` and `__Secure-` are how sign-in's cookies are named on https; browsers match them case-insensitively.
  for (;;) {
    if (name.startsWith('__host-')) name = name.slice(7);
    else if (name.startsWith('__secure-')) name = name.slice(9);
    else break;
  }
  return name.startsWith(COOKIE_PREFIX);
}

interface InternalAddress {
  origin: string;
  /** The upstream URL's path without its trailing slash ('' for none). */
  path: string;
}

const internalAddresses = new WeakMap<Resource, InternalAddress | undefined>();

function internalAddressOf(resource: Resource): InternalAddress | undefined {
  if (internalAddresses.has(resource)) return internalAddresses.get(resource);
  let address: InternalAddress | undefined;
  try {
    const url = new URL(resource.upstream);
    if (url.protocol === 'http:' || url.protocol === 'https:') {
      address = { origin: url.origin, path: url.pathname.replace(/\/+$/, '') };
    }
  } catch {
    address = undefined;
  }
  internalAddresses.set(resource, address);
  return address;
}

/** A different base for the same reference: a reference that names its own host resolves the same against both. */
const ELSEWHERE = 'http://jitgate.invalid/';

/**
 * The URL rewritten to the public address when it names the upstream's internal origin, else as it
 * was. Relative references (`/login`, `login`, `?next=1`) are left alone: they already resolve
 * against the address the browser used. Scheme-relative (`//10.0.0.5:3000/x`) and backslash
 * spellings (`/\10.0.0.5:3000/x`), which browsers resolve as absolute, are parsed the way browsers
 * parse them (WHATWG URL).
 */
function toPublic(value: string, internal: InternalAddress, address: PublicAddress): string {
  let here: URL;
  let there: URL;
  try {
    here = new URL(value, `${internal.origin}/`);
    there = new URL(value, ELSEWHERE);
  } catch {
    return value;
  }
  // Relative to whatever page it is on: nothing internal in it.
  if (here.origin !== there.origin || here.origin !== internal.origin) return value;
  const path = here.pathname;
  let rest: string;
  if (internal.path === '') rest = path;
  else if (path === internal.path) rest = '/';
  else if (path.startsWith(`${internal.path}/`)) rest = path.slice(internal.path.length);
  else return value;
  return `${address.base}${rest}${here.search}${here.hash}`;
}

/** `Refresh: 5; url=http://10.0.0.5:3000/x` (quotes and spacing as browsers accept them). */
const REFRESH = /^(\s*[\d.]+\s*[;,]?\s*(?:url\s*=\s*)?)(['"]?)(.*?)\2(\s*)$/is;

function rewriteRefresh(value: string, rewrite: (url: string) => string): string {
  // Long enough for any real URL; longer ones are not worth a regular expression's time.
  if (value.length > 4096) return value;
  const m = REFRESH.exec(value);
  if (!m || m[3] === undefined || m[3] === '') return value;
  return `${m[1]}${m[2]}${rewrite(m[3])}${m[2]}${m[4]}`;
}
