import type { IncomingMessage } from 'node:http';
import type { Clock } from '../../shared/clock.js';
import { isJitgateError } from '../../shared/errors.js';
import type { LiveGrant } from '../../shared/grants/records.js';
import type { AccessStore } from '../../shared/grants/store.js';
import {
  matchResource,
  type Policy,
  type Resource,
  type Role,
  roleAllows,
} from '../../shared/policy/index.js';
import type { AccessClaims, AccessTokenVerifier } from '../../shared/tokens/index.js';
import { type HintContext, type Refusal, type RefusalCode, refusal } from '../refusals.js';
import { type ClientInfo, type ClientResolver, networkAllows } from './client-address.js';
import { hasTokenInQuery } from './path.js';
import { cookieNameOf, findToken } from './token.js';

export interface AuthorizeDeps {
  policy: () => Policy;
  store: AccessStore;
  verifier: AccessTokenVerifier;
  clock: Clock;
  resolveClient: ClientResolver;
}

/** What the refusal names, for the audit log and metrics. */
interface Known {
  resource?: Resource | undefined;
  user?: string | undefined;
  grantId?: string | undefined;
  roleName?: string | undefined;
  upstreamPath?: string | undefined;
  client: ClientInfo;
}

export type Verdict =
  | (Known & {
      ok: true;
      resource: Resource;
      upstreamPath: string;
      claims: AccessClaims;
      role: Role;
      tokenFrom: 'bearer' | 'cookie';
      /** The live grant's expiry (ms). */
      expiresAt: number;
    })
  | (Known & { ok: false; refusal: Refusal });

const TOKEN_IN_QUERY: Refusal = {
  code: 'token_invalid',
  message: 'Tokens in the query string are not accepted.',
  hint: 'Send the token in an Authorization: Bearer header, or open the redeem link in a browser.',
};

const cookieNames = new WeakMap<Resource, string>();
function cookieNameFor(resource: Resource): string {
  let name = cookieNames.get(resource);
  if (name === undefined) {
    name = cookieNameOf(resource.name);
    cookieNames.set(resource, name);
  }
  return name;
}

/**
 * The decision for one request (or upgrade), in the order of DESIGN.md: route, token, grant, role,
 * network. The grant check is the one Redis round trip and is never cached, so a revoked grant is
 * refused on the very next request. The request target has already passed requestTargetProblem.
 *
 * @example const verdict = await authorize(req, false); if (!verdict.ok) refuse(verdict.refusal);
 */
export function createAuthorize(deps: AuthorizeDeps) {
  return async function authorize(req: IncomingMessage, websocket: boolean): Promise<Verdict> {
    const url = req.url ?? '/';
    const method = req.method ?? 'GET';
    const client = deps.resolveClient(req.socket.remoteAddress, headerValue(req.headers['x-forwarded-for']));
    const known: Known = { client };
    const deny = (code: RefusalCode, message?: string, hint: HintContext = {}): Verdict => ({
      ...known,
      ok: false,
      refusal: refusal(code, { resource: known.resource, role: known.roleName, ...hint }, message),
    });

    const match = matchResource(deps.policy(), req.headers.host, url);
    if (!match) return deny('no_such_resource');
    const { resource, upstreamPath } = match;
    known.resource = resource;
    known.upstreamPath = upstreamPath;
    if (websocket && !resource.websocket) {
      return deny('method_not_allowed', `${resource.name} does not accept WebSocket connections.`);
    }

    if (hasTokenInQuery(url)) {
      // Refused, not ignored: the token is in a URL already (logs, history), and it is never forwarded.
      return { ...known, ok: false, refusal: TOKEN_IN_QUERY };
    }
    const found = findToken(
      headerValue(req.headers.authorization),
      req.headers.cookie,
      cookieNameFor(resource),
    );
    if (!found) return deny('token_missing');

    let claims: AccessClaims;
    try {
      claims = await deps.verifier.verify(found.token, resource.name);
    } catch (err) {
      if (isJitgateError(err, 'token_invalid') && err.fields.reason === 'audience') {
        return deny('wrong_resource', `This access token is not for ${resource.name}.`);
      }
      if (isJitgateError(err, 'token_expired')) return deny('token_expired');
      return deny('token_invalid', isJitgateError(err) ? err.message : undefined);
    }
    known.user = claims.sub;
    known.grantId = claims.gid;
    known.roleName = claims.role;

    let grant: Awaited<ReturnType<AccessStore['liveGrant']>>;
    try {
      grant = await deps.store.liveGrant(claims.gid);
    } catch {
      return deny('unavailable'); // fail closed: no Redis, no access
    }
    // The live key expires with the grant, so a missing key is an expired grant.
    if (!grant) return deny('grant_expired');
    if (grant.status === 'revoked') return deny('grant_revoked');
    if (grant.expiresAt <= deps.clock.now()) return deny('grant_expired');
    // Every claim the upstream is told must be the grant's: X-JIT-Email comes from the token, and
    // upstreams log people in by it.
    if (
      grant.user !== claims.sub ||
      grant.resource !== resource.name ||
      grant.role !== claims.role ||
      grant.email !== claims.email
    ) {
      return deny('token_invalid', 'The access token does not match its grant.');
    }

    const role = resource.roles.find((r) => r.name === grant.role);
    if (!role) {
      return deny('method_not_allowed', `The ${grant.role} role no longer exists for ${resource.name}.`, {
        method,
        path: upstreamPath,
      });
    }
    if (!roleAllows(role, method, upstreamPath)) {
      return deny('method_not_allowed', `Your ${role.name} role does not allow ${method} on this path.`, {
        method,
        path: upstreamPath,
      });
    }
    if (!networkAllows(resource.networks, client.client)) {
      return deny(
        'network_not_allowed',
        `Access to ${resource.name} is not allowed from ${client.client?.toString() ?? 'an unknown address'}.`,
      );
    }
    return {
      ...known,
      ok: true,
      resource,
      upstreamPath,
      claims,
      role,
      tokenFrom: found.from,
      expiresAt: grant.expiresAt,
    };
  };
}

export type Authorize = ReturnType<typeof createAuthorize>;

/** An active grant that has not run out yet. */
export function isLive(grant: LiveGrant | undefined, now: number): grant is LiveGrant {
  return grant?.status === 'active' && grant.expiresAt > now;
}

function headerValue(h: string | string[] | undefined): string | undefined {
  return Array.isArray(h) ? h.join(', ') : h;
}
