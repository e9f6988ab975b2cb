import type { Clock } from '../../shared/clock.js';
import type { Policy, Role } from '../../shared/policy/index.js';
import type { AccessTokenVerifier } from '../../shared/tokens/index.js';
import type { ClientInfo } from '../checks/client-address.js';
import { type AccessContext, type Check, outOfOrder, refuse, type SyncCheck } from '../checks/context.js';
import { type GrantReader, grantCheck } from '../checks/grant.js';
import { networkCheck } from '../checks/network.js';
import { tokenCheck } from '../checks/token.js';

/** An attempt that came as a PostgreSQL startup: the database named, the password sent. */
export interface PostgresAccess extends AccessContext {
  /** The `database` startup parameter: the resource's name. */
  readonly database: string;
}

/** The context the checks read, from a client's startup parameters and its password message. */
export function postgresAccess(client: ClientInfo, database: string, password: string): PostgresAccess {
  return {
    client,
    // No methods on this transport; the role check below judges the login, not a method.
    method: 'CONNECT',
    target: '/',
    websocket: false,
    token: password === '' ? undefined : password,
    database,
    resource: undefined,
    upstreamPath: undefined,
    user: undefined,
    email: undefined,
    grantId: undefined,
    roleName: undefined,
    tokenUse: undefined,
    expiresAt: undefined,
    role: undefined,
  };
}

/**
 * Route (PostgreSQL): the database a client asks for is the resource, which must be of kind
 * postgres. An HTTP resource's name is refused like an unknown one: it has no database behind it.
 */
export function databaseCheck(policy: () => Policy): SyncCheck<PostgresAccess> {
  return function database(ctx) {
    const resource = policy().resources.get(ctx.database);
    if (resource?.kind !== 'postgres' || !resource.postgres) {
      return refuse(
        ctx,
        'no_such_resource',
        `There is no database called ${JSON.stringify(ctx.database)} behind jitgate.`,
      );
    }
    ctx.resource = resource;
    ctx.upstreamPath = '/';
    return undefined;
  };
}

/** Role (PostgreSQL): the grant's role must still exist in the policy, with its login. */
export const loginCheck: SyncCheck = function login(ctx) {
  const { resource, roleName } = ctx;
  if (resource === undefined) return outOfOrder(ctx, 'login', 'route');
  if (roleName === undefined) return outOfOrder(ctx, 'login', 'token');
  let found: Role | undefined;
  for (const r of resource.roles) if (r.name === roleName) found = r;
  if (!found?.db) {
    return refuse(ctx, 'method_not_allowed', `The ${roleName} role no longer exists for ${resource.name}.`);
  }
  ctx.role = found;
  return undefined;
};

/**
 * The decision for a PostgreSQL login, the HTTP path's checks where they mean the same: database,
 * token (signature, issuer, audience = the resource, expiry), grant (live in Redis, matching user,
 * resource, role and e-mail), login, network. All of them pass before any upstream connection opens.
 */
export function postgresChecks(deps: {
  policy: () => Policy;
  verifier: AccessTokenVerifier;
  store: GrantReader;
  clock: Clock;
}): Check<PostgresAccess>[] {
  return [
    databaseCheck(deps.policy),
    tokenCheck(deps.verifier),
    grantCheck({ store: deps.store, clock: deps.clock }),
    loginCheck,
    networkCheck,
  ];
}
