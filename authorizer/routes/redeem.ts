import express, { type Request, type Response, type Router } from 'express';
import { type RedeemDeps as RedeemUseCaseDeps, redeemGrant } from '../../shared/access/redeem.js';
import type { Clock } from '../../shared/clock.js';
import { isJitgateError } from '../../shared/errors.js';
import { isLive } from '../../shared/grants/live.js';
import type { Logger } from '../../shared/log.js';
import { type Policy, type Resource, takesBrowserCookies } from '../../shared/policy/index.js';
import type { AccessTokenVerifier, SigningKeys } from '../../shared/tokens/index.js';
import type { ClientResolver } from '../checks/client-address.js';
import { cookieNameOf } from '../checks/credential.js';
import { type GatewayAddress, postgresConnection } from '../postgres/connect-info.js';
import { prefersHtml, sendRefusal } from '../refusal-response.js';
import { type RefusalCode, refusal } from '../refusals.js';
import { FOR_COMMAND_LINE, sendBearerTokenPage, sendCommandLineRedeem } from './command-line-redeem.js';
import { holderOnly, type RedeemBindingDeps } from './redeem-binding.js';
import {
  clearConfirmCookie,
  confirmedCode,
  holderCookie,
  previousHolder,
  REDEEM_PATH,
  sendConfirmPage,
} from './redeem-confirm.js';

export interface RedeemDeps {
  store: RedeemUseCaseDeps['store'];
  policy: () => Policy;
  keys: SigningKeys;
  clock: Clock;
  /** JITGATE_PUBLIC_URL: the tokens' issuer, and whether cookies are Secure. */
  publicUrl: string;
  log: Logger;
  /** The client address, for the audit (JITGATE_TRUSTED_PROXIES applied). */
  resolveClient: ClientResolver;
  /** Reads a host resource's access cookie, to tell whose access a browser holds (redeem-confirm.ts). */
  verifier?: AccessTokenVerifier | undefined;
  /** With sign-in on: a link opened in a browser is its holder's only (see redeem-binding.ts). */
  binding?: RedeemBindingDeps | undefined;
  /** Where the PostgreSQL gateway is reached, once it listens (undefined when it is off). */
  postgresAt?: (() => GatewayAddress | undefined) | undefined;
}

/**
 * `GET /_jitgate/redeem?code=`: the HTTP side of redeeming (shared/access/redeem.ts decides).
 * `Accept: application/json` gets the token as JSON; a browser gets it as an HttpOnly cookie scoped
 * to the resource and a 303 to the resource's own root, never to a caller-chosen target (`next`,
 * `redirect` and the like are ignored). A pathPrefix resource takes a cookie only with
 * `browser: shared-origin`; for any other, a link opened without asking for JSON is answered with
 * the commands to use instead, and the code is left unused. With sign-in on, every redeem, JSON
 * included, must first be signed in as the link's holder (holderOnly); anyone else is refused and
 * nothing is consumed. The holder's browser then gets the bearer token on a page, once, for a
 * bearer-only resource or when the link asks `for=command-line` (the DM's command-line link).
 * Without sign-in, a browser that holds another person's access is asked before it is replaced
 * (redeem-confirm.ts: the page, then `POST /_jitgate/redeem` with its anti-forgery token).
 * `grant.redeemed` carries the client's address.
 */
export function registerRedeem(router: Router, deps: RedeemDeps): void {
  const publicUrl = new URL(deps.publicUrl);
  const secure = publicUrl.protocol === 'https:';
  const useCase: RedeemUseCaseDeps = { ...deps, issuer: deps.publicUrl };
  const connection = (resource: Resource) => {
    const at = resource.kind === 'postgres' ? deps.postgresAt?.() : undefined;
    return at ? postgresConnection(resource, at) : undefined;
  };

  router.get(REDEEM_PATH, (req, res) =>
    redeem(req, res, typeof req.query.code === 'string' ? req.query.code : '', false),
  );
  // The confirmation exists without sign-in only: with it, a redeem is the signed-in holder's anyway.
  if (!deps.binding) {
    router.post(REDEEM_PATH, express.urlencoded({ extended: false, limit: '4kb' }), (req, res) => {
      res.set({ 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' });
      const code = confirmedCode(deps.keys, publicUrl, req, res);
      if (code !== undefined) return redeem(req, res, code, true);
    });
  }

  /**
   * Without sign-in, a browser whose cookie is about to be set: when it holds another person's
   * access for this resource, the confirmation page is the answer (true) and nothing is used.
   */
  async function askedFirst(req: Request, res: Response, code: string): Promise<boolean> {
    const grantId = await deps.store.codes.redeemCodeGrant(code);
    const grant = grantId ? await deps.store.queries.liveGrant(grantId) : undefined;
    if (!isLive(grant, deps.clock.now())) return false;
    const resource = deps.policy().resources.get(grant.resource);
    if (!resource || !takesBrowserCookies(resource)) return false;
    // A host resource's cookie is set on its own host only (elsewhere the link is handed over first).
    if ('host' in resource.match && hostOf(req.headers.host) !== resource.match.host.toLowerCase())
      return false;
    const previous = await previousHolder(deps, req, resource);
    if (previous === undefined || previous === grant.user) return false;
    deps.log.warn(
      { grantId: grant.id, resource: resource.name, client: clientOf(req) },
      "redeem would replace another person's access in this browser: asked first",
    );
    sendConfirmPage(res, { keys: deps.keys, code, resource, grant, previous, secure });
    return true;
  }

  function clientOf(req: Request): string | undefined {
    const xff = req.headers['x-forwarded-for'];
    return deps
      .resolveClient(req.socket.remoteAddress, Array.isArray(xff) ? xff.join(', ') : xff)
      .client?.toString();
  }

  async function redeem(req: Request, res: Response, code: string, confirmed: boolean): Promise<void> {
    // The URL holds a one-time code: no cache may keep the answer, no Referer may carry it on.
    res.set({ 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' });
    const accept = req.headers.accept;
    const json = !prefersHtml(accept) && (accept ?? '').includes('application/json');
    const client = clientOf(req);
    let resource: Resource | undefined;
    try {
      const commandLineLink = `${publicUrl.origin}/_jitgate/redeem?code=${encodeURIComponent(code)}&${FOR_COMMAND_LINE}`;
      if (
        deps.binding &&
        (await holderOnly(deps.binding, req, res, { code, json, commandLineLink })) === 'answered'
      )
        return;
      // With sign-in on, the holder's own browser takes a command-line token on a page, when asked
      // (`for=command-line`) or when the resource takes bearer tokens only.
      if (!json && !deps.binding && !confirmed && (await askedFirst(req, res, code))) return;
      const tokenPage = !json && deps.binding !== undefined;
      const asked = tokenPage && req.query.for === 'command-line';
      let redeemed = await redeemGrant(useCase, {
        code,
        browserHost: json || asked ? undefined : hostOf(req.headers.host),
        client,
      });
      if (tokenPage && redeemed.next === 'command-line')
        redeemed = await redeemGrant(useCase, { code, client });
      const { grant } = redeemed;
      resource = redeemed.resource;
      if (tokenPage && redeemed.next === 'token' && (asked || !takesBrowserCookies(resource))) {
        deps.log.info({ grantId: grant.id, resource: resource.name, as: 'page' }, 'redeemed');
        const { token } = redeemed;
        const postgres = connection(resource);
        sendBearerTokenPage(res, {
          resource,
          publicUrl,
          token,
          expiresAt: grant.expiresAt,
          accept,
          postgres,
        });
        return;
      }
      if (redeemed.next === 'command-line') {
        deps.log.info(
          { grantId: grant.id, resource: resource.name },
          'redeem in a browser for a bearer-only resource',
        );
        const { pathPrefix } = redeemed;
        const postgres = connection(resource);
        sendCommandLineRedeem(res, {
          resource,
          pathPrefix,
          origin: publicUrl.origin,
          code,
          accept,
          postgres,
        });
        return;
      }
      if (redeemed.next === 'hand-over') {
        const port = publicUrl.port ? `:${publicUrl.port}` : '';
        deps.log.info(
          { grantId: grant.id, resource: resource.name },
          'redeem handed over to the resource host',
        );
        res.redirect(
          303,
          `${publicUrl.protocol}//${redeemed.host}${port}/_jitgate/redeem?code=${redeemed.code}`,
        );
        return;
      }
      deps.log.info({ grantId: grant.id, resource: resource.name, as: json ? 'json' : 'cookie' }, 'redeemed');
      if (json) {
        res.json({
          token: redeemed.token,
          tokenType: 'Bearer',
          resource: resource.name,
          role: grant.role,
          expiresAt: new Date(grant.expiresAt).toISOString(),
          grantId: grant.id,
          // A database: where psql connects, with the token as the password.
          ...(resource.kind === 'postgres' ? { postgres: connection(resource) } : {}),
        });
        return;
      }
      const root = 'pathPrefix' in resource.match ? resource.match.pathPrefix : '/';
      const maxAge = Math.max(0, Math.floor((grant.expiresAt - deps.clock.now()) / 1000));
      res.setHeader('Set-Cookie', [
        `${cookieNameOf(resource.name)}=${redeemed.token}; HttpOnly; SameSite=Lax; Path=${root}; Max-Age=${maxAge}${secure ? '; Secure' : ''}`,
        holderCookie(deps.keys, grant.user, secure),
        ...(confirmed ? [clearConfirmCookie(secure)] : []),
      ]);
      res.redirect(303, root === '/' ? '/' : `${root}/`);
    } catch (err) {
      const known = isJitgateError(err);
      if (!known) deps.log.error({ err }, 'redeem failed');
      const codeOf: RefusalCode = known ? err.code : 'unavailable';
      sendRefusal(res, refusal(codeOf, { resource }, known ? err.message : undefined), accept);
    }
  }
}

function hostOf(host: string | undefined): string {
  return (host ?? '').toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
}
