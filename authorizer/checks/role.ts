import { type Role, roleAllows } from '../../shared/policy/index.js';
import { outOfOrder, refuse, type SyncCheck } from './context.js';

/**
 * Role (HTTP): the grant's role must still exist in the policy and allow this method on the path
 * the upstream will see. The hint names a role that would allow it, when one does.
 */
export const roleCheck: SyncCheck = function role(ctx) {
  const { resource, roleName, upstreamPath, method } = ctx;
  if (resource === undefined || upstreamPath === undefined) return outOfOrder(ctx, 'role', 'route');
  if (roleName === undefined) return outOfOrder(ctx, 'role', 'token');
  let found: Role | undefined;
  for (const r of resource.roles) {
    if (r.name === roleName) {
      found = r;
      break;
    }
  }
  if (!found) {
    return refuse(ctx, 'method_not_allowed', `The ${roleName} role no longer exists for ${resource.name}.`, {
      method,
      path: upstreamPath,
    });
  }
  if (!roleAllows(found, method, upstreamPath)) {
    return refuse(
      ctx,
      'method_not_allowed',
      `Your ${found.name} role does not allow ${method} on this path.`,
      {
        method,
        path: upstreamPath,
      },
    );
  }
  ctx.role = found;
  return undefined;
};
