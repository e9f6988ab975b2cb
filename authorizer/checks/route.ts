import { matchResource, type Policy } from '../../shared/policy/index.js';
import { refuse, type SyncCheck } from './context.js';
import type { HttpAccess } from './http.js';

/**
 * Route (HTTP): the resource whose `match.host` or `match.pathPrefix` fits the request, and the
 * path its upstream will see (the prefix stripped). A WebSocket upgrade only reaches a resource
 * that accepts them. The policy is read per attempt, so a reload applies to the next request.
 */
export function routeCheck(policy: () => Policy): SyncCheck<HttpAccess> {
  return function route(ctx) {
    const match = matchResource(policy(), ctx.host, ctx.target);
    if (!match) return refuse(ctx, 'no_such_resource');
    const { resource } = match;
    ctx.resource = resource;
    ctx.upstreamPath = match.upstreamPath;
    if (ctx.websocket && !resource.websocket) {
      return refuse(ctx, 'method_not_allowed', `${resource.name} does not accept WebSocket connections.`);
    }
    return undefined;
  };
}
