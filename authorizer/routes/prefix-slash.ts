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
    const target = req.url;
    const q = target.indexOf('?');
    const path = q === -1 ? target : target.slice(0, q);
    const match = matchResource(policy(), req.headers.host, target);
    const prefix =
      match && 'pathPrefix' in match.resource.match ? match.resource.match.pathPrefix : undefined;
    if (prefix === undefined || path !== prefix) {
      next();
      return;
    }
    res.set('Cache-Control', 'no-store');
    res.redirect(308, `${prefix}/${q === -1 ? '' : target.slice(q)}`);
  };
}
