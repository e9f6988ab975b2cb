import { isJitgateError } from '../../shared/errors.js';
import type { AccessTokenVerifier } from '../../shared/tokens/index.js';
import { type Check, outOfOrder, refuse } from './context.js';

/**
 * Token: the credential presented must be a jitgate access token for this resource (jose verifies
 * signature, issuer, audience, expiry; the verifier caches verified claims until `exp`). Its claims
 * become the attempt's identity: the user, e-mail, grant and role that the grant check confirms.
 * Transport-neutral: a bearer header, a cookie or a PostgreSQL password all arrive as `ctx.token`.
 */
export function tokenCheck(verifier: AccessTokenVerifier): Check {
  return async function token(ctx) {
    const resource = ctx.resource;
    if (resource === undefined) return outOfOrder(ctx, 'token', 'route');
    if (ctx.token === undefined) return refuse(ctx, 'token_missing');
    let claims: Awaited<ReturnType<AccessTokenVerifier['verify']>>;
    try {
      claims = await verifier.verify(ctx.token, resource.name);
    } catch (err) {
      if (isJitgateError(err, 'token_invalid') && err.fields.reason === 'audience') {
        return refuse(ctx, 'wrong_resource', `This access token is not for ${resource.name}.`);
      }
      if (isJitgateError(err, 'token_expired')) return refuse(ctx, 'token_expired');
      return refuse(ctx, 'token_invalid', isJitgateError(err) ? err.message : undefined);
    }
    ctx.user = claims.sub;
    ctx.email = claims.email;
    ctx.grantId = claims.gid;
    ctx.roleName = claims.role;
    ctx.tokenUse = claims.use;
    return undefined;
  };
}
