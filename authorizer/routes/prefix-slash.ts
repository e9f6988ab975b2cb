import type { NextFunction, Request, Response } from 'express';
import { matchResource, type Policy } from '../../shared/policy/index.js';

/**
 * `/grafana` (no trailing slash) for a pathPrefix resource `/grafana`: a 308 to `/grafana/`, the
 * query kept, before any check. The upstream would see `/` either way, but a page served at
 * `/grafana` resolves its relative links (`style.css`, `api/x`) against `/`, outside the resource,
 * and its cookie's `Path=/grafana` covers both. 308 for every method, not 301: a POST stays a POST
 * with its body (301 lets clients turn it into a GET). Answered `no-store`, so that a browser does
 * not keep it once the policy changes. The Location is the policy's prefix, never the request's
 * text, and relative, so it cannot lead anywhere else.
 */
export function prefixSlash(policy: () => Policy) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const location = slashTarget(policy(), req.headers.host, req.url);
    if (location === undefined) {
      next();
      return;
    }
    res.set('Cache-Control', 'no-store');
    res.redirect(308, location);
  };
}

/**
 * Where `/prefix` (with its query, if any) is sent: `/prefix/` and the query, for a pathPrefix
 * resource's prefix exactly; undefined for every other target.
 */
export function slashTarget(policy: Policy, host: string | undefined, target: string): string | undefined {
  const q = target.indexOf('?');
  const path = q === -1 ? target : target.slice(0, q);
  if (!prefixesOf(policy).has(path)) return undefined;
  const match = matchResource(policy, host, target);
  const prefix = match && 'pathPrefix' in match.resource.match ? match.resource.match.pathPrefix : undefined;
  if (prefix === undefined || path !== prefix) return undefined;
  return `${prefix}/${q === -1 ? '' : target.slice(q)}`;
}

const prefixes = new WeakMap<Policy, Set<string>>();

/** The policy's path prefixes, once per policy object: most targets are none of them, at a lookup's cost. */
function prefixesOf(policy: Policy): Set<string> {
  let set = prefixes.get(policy);
  if (!set) {
    set = new Set();
    for (const resource of policy.resources.values()) {
      if ('pathPrefix' in resource.match) set.add(resource.match.pathPrefix);
    }
    prefixes.set(policy, set);
  }
  return set;
}
