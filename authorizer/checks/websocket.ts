import { outOfOrder, refuse, type SyncCheck } from './context.js';

/**
 * WebSocket: an upgrade needs a role that says `websocket: true`. A two-way socket is a permission
 * of its own: a role limited to GET and HEAD must not get one just because the upgrade request is a
 * GET. (The route check already refused upgrades to a resource that accepts none.) Plain requests
 * pass untouched.
 */
export const websocketCheck: SyncCheck = function websocket(ctx) {
  if (!ctx.websocket) return undefined;
  const { resource, role } = ctx;
  if (resource === undefined) return outOfOrder(ctx, 'websocket', 'route');
  if (role === undefined) return outOfOrder(ctx, 'websocket', 'role');
  if (role.websocket === true) return undefined;
  return refuse(ctx, 'method_not_allowed', `Your ${role.name} role does not allow WebSocket connections.`, {
    websocket: true,
  });
};
