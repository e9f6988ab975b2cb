import type { PolicyProblem } from './schema.js';
import type { Policy, Resource } from './types.js';

/**
 * Which resources a browser may reach with a cookie. Every pathPrefix resource lives on the
 * authorizer's one origin, and an origin is the browser's only wall: a script on one upstream's
 * page can call any other path of that origin with the visitor's cookies and read the replies
 * (a cookie's Path is matched against the request, not the page). So a pathPrefix resource takes
 * bearer tokens only unless the policy says `browser: shared-origin`; a host resource has an origin
 * of its own and takes its cookie there.
 */

/**
 * Whether the authorizer accepts (and redeem sets) this resource's access cookie.
 *
 * @example takesBrowserCookies(policy.resources.get('grafana')!) // false for a plain pathPrefix resource
 */
export function takesBrowserCookies(resource: Resource): boolean {
  return 'host' in resource.match || resource.browser === 'shared-origin';
}

/**
 * What a valid policy still exposes or silently refuses, at most one warning of each kind per resource (for `npm run policy -- check`).
 *
 * @example for (const w of policyWarnings(policy)) console.warn(`${w.path}: ${w.message}`);
 */
export function policyWarnings(policy: Policy): PolicyProblem[] {
  const warnings: PolicyProblem[] = [];
  for (const resource of policy.resources.values()) {
    if (resource.websocket && !resource.roles.some((r) => r.websocket === true)) {
      warnings.push({
        path: `resources.${resource.name}.websocket`,
        message:
          `is true, but no role of ${resource.name} may open WebSockets, so every upgrade is refused: ` +
          `give the roles that need them websocket: true (e.g. roles.${resource.roles[0]?.name ?? 'viewer'}.websocket: true); ` +
          `a role's methods do not imply it`,
      });
    }
    if (!('pathPrefix' in resource.match) || resource.browser !== 'shared-origin') continue;
    warnings.push({
      path: `resources.${resource.name}.browser`,
      message:
        `shared-origin: ${resource.name} takes browser cookies on the authorizer's own origin, so a page ` +
        `served by any other shared-origin resource can send requests with a visitor's ${resource.name} ` +
        `cookie and read the answers. Give ${resource.name} its own host instead ` +
        `(match: { host: ${resource.name}.<your access domain> }) and leave browser out.`,
    });
  }
  return warnings;
}

/**
 * The plain URL a browser opens a resource at, on the authorizer's public URL (its scheme and port;
 * a host resource's own host), or undefined for a resource that takes bearer tokens only. With
 * sign-in on, the holder of a grant just opens it.
 *
 * @example browserUrl(grafana, 'https://access.example.com') // 'https://grafana.access.example.com/'
 */
export function browserUrl(resource: Resource, publicUrl: string): string | undefined {
  if (!takesBrowserCookies(resource)) return undefined;
  const base = new URL(publicUrl);
  if ('host' in resource.match) {
    return `${base.protocol}//${resource.match.host.toLowerCase()}${base.port ? `:${base.port}` : ''}/`;
  }
  return 'pathPrefix' in resource.match ? `${base.origin}${resource.match.pathPrefix}/` : undefined;
}
