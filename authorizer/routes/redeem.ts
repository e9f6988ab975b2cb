import type { Router } from 'express';
import type { Clock } from '../../shared/clock.js';
import { isJitgateError, JitgateError } from '../../shared/errors.js';
import type { AccessStore } from '../../shared/grants/store.js';
import type { Logger } from '../../shared/log.js';
import type { Policy, Resource } from '../../shared/policy/index.js';
import { type SigningKeys, signAccessToken } from '../../shared/tokens/index.js';
import { cookieNameOf } from '../checks/credential.js';
import { isLive } from '../checks/grant.js';
import { prefersHtml, sendRefusal } from '../refusal-response.js';
import { type RefusalCode, refusal } from '../refusals.js';

export interface RedeemDeps {
  store: AccessStore;
  policy: () => Policy;
  keys: SigningKeys;
  clock: Clock;
  /** JITGATE_PUBLIC_URL: the tokens' issuer, and whether cookies are Secure. */
  publicUrl: string;
  log: Logger;
}

/**
 * `GET /_jitgate/redeem?code=`: consumes the one-time code, then mints the access token (here and
 * only here; it is never stored). `Accept: application/json` gets the token as JSON; a browser gets
 * it as an HttpOnly cookie scoped to the resource and a 303 to the resource's own root, never to a
 * caller-chosen target (`next`, `redirect` and the like are ignored).
 */
export function registerRedeem(router: Router, deps: RedeemDeps): void {
  const publicUrl = new URL(deps.publicUrl);
  const secure = publicUrl.protocol === 'https:';

  router.get('/_jitgate/redeem', async (req, res) => {
    // The URL holds a one-time code: no cache may keep the answer, no Referer may carry it on.
    res.set({ 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' });
    const accept = req.headers.accept;
    const json = !prefersHtml(accept) && (accept ?? '').includes('application/json');
    const code = typeof req.query.code === 'string' ? req.query.code : '';
    let resource: Resource | undefined;
    try {
      const grantId = await deps.store.redeem(code);
      const grant = await deps.store.liveGrant(grantId);
      if (!isLive(grant, deps.clock.now())) {
        throw new JitgateError('grant_not_active', 'The grant of this link is no longer active.', {});
      }
      resource = deps.policy().resources.get(grant.resource);
      if (!resource)
        throw new JitgateError('no_such_resource', `${grant.resource} is no longer protected by jitgate.`);

      // Host-only cookies belong to the host that sets them, and the DM's link names the public URL's
      // host. So for a resource matched by host, opened on another host, the consumed code is swapped
      // for a fresh one-time code and the browser is sent to the same redeem route on the resource's
      // own host (a host from the policy, never from the request), which then sets the cookie there.
      if (
        !json &&
        'host' in resource.match &&
        hostOf(req.headers.host) !== resource.match.host.toLowerCase()
      ) {
        const fresh = await deps.store.createRedeemCode(grantId);
        const port = publicUrl.port ? `:${publicUrl.port}` : '';
        deps.log.info({ grantId, resource: resource.name }, 'redeem handed over to the resource host');
        res.redirect(
          303,
          `${publicUrl.protocol}//${resource.match.host}${port}/_jitgate/redeem?code=${fresh}`,
        );
        return;
      }

      const token = await signAccessToken(
        deps.keys,
        {
          issuer: deps.publicUrl,
          grantId,
          user: grant.user,
          email: grant.email,
          resource: resource.name,
          role: grant.role,
          expiresAt: grant.expiresAt,
        },
        deps.clock,
      );
      deps.log.info({ grantId, resource: resource.name, as: json ? 'json' : 'cookie' }, 'redeemed');
      if (json) {
        res.json({
          token,
          tokenType: 'Bearer',
          resource: resource.name,
          role: grant.role,
          expiresAt: new Date(grant.expiresAt).toISOString(),
          grantId,
        });
        return;
      }
      const root = 'pathPrefix' in resource.match ? resource.match.pathPrefix : '/';
      const maxAge = Math.max(0, Math.floor((grant.expiresAt - deps.clock.now()) / 1000));
      res.setHeader(
        'Set-Cookie',
        `${cookieNameOf(resource.name)}=${token}; HttpOnly; SameSite=Lax; Path=${root}; Max-Age=${maxAge}${secure ? '; Secure' : ''}`,
      );
      res.redirect(303, root === '/' ? '/' : `${root}/`);
    } catch (err) {
      const known = isJitgateError(err);
      if (!known) deps.log.error({ err }, 'redeem failed');
      const codeOf: RefusalCode = known ? err.code : 'unavailable';
      sendRefusal(res, refusal(codeOf, { resource }, known ? err.message : undefined), accept);
    }
  });
}

function hostOf(host: string | undefined): string {
  return (host ?? '').toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
}
