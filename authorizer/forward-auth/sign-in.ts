import type { Policy } from '../../shared/policy/index.js';
import { allowedHosts, bareHost, originOf, returnUrl, safePath } from '../identity/hosts.js';

/**
 * Where a browser that an ingress's forward-auth call found without a session signs in: the
 * `/_jitgate/signin` of the host it asked (the ingress routes `/_jitgate/` there to jitgate), which
 * binds the browser and brings it back to the page afterwards, as on the proxy path. Only a host
 * jitgate may return to (the public URL's, a host resource's) and a plain path get a URL.
 *
 * @example signInUrls('https://access.example.com', () => policy)('access.example.com', '/grafana/')
 */
export function signInUrls(publicUrl: string, policy: () => Policy) {
  const base = new URL(publicUrl);
  return function signInUrl(host: string | undefined, uri: string): string | undefined {
    const bare = bareHost(host ?? base.host);
    const path = safePath(uri);
    if (path === undefined || !allowedHosts(base, policy()).has(bare)) return undefined;
    const start = new URL(`${originOf(base, bare)}/_jitgate/signin`);
    start.searchParams.set('return', returnUrl(base, { host: bare, path }));
    return start.href;
  };
}
