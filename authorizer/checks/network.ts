import { networkAllows } from './client-address.js';
import { outOfOrder, refuse, type SyncCheck } from './context.js';

/**
 * Network: the client address must lie in the resource's `networks`, when it has any. An address
 * that could not be told (an unparseable X-Forwarded-For from a trusted proxy) is never allowed.
 */
export const networkCheck: SyncCheck = function network(ctx) {
  const resource = ctx.resource;
  if (resource === undefined) return outOfOrder(ctx, 'network', 'route');
  if (networkAllows(resource.networks, ctx.client.client)) return undefined;
  return refuse(
    ctx,
    'network_not_allowed',
    `Access to ${resource.name} is not allowed from ${ctx.client.client?.toString() ?? 'an unknown address'}.`,
  );
};
