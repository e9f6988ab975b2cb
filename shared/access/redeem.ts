import type { Clock } from '../clock.js';
import { errorFor } from '../errors.js';
import { isLive } from '../grants/live.js';
import type { LiveGrant } from '../grants/records.js';
import type { AccessStore } from '../grants/store.js';
import { takesBrowserCookies } from '../policy/browser.js';
import type { Policy, Resource } from '../policy/types.js';
import { type SigningKeys, signAccessToken } from '../tokens/index.js';
import type { Effect } from './effects.js';

export interface RedeemDeps {
  store: Pick<AccessStore, 'codes' | 'queries'>;
  policy: () => Policy;
  keys: SigningKeys;
  clock: Clock;
  /** The tokens' issuer (JITGATE_PUBLIC_URL). */
  issuer: string;
}

export interface RedeemInput {
  /** The one-time code from the link. */
  code: string;
  /**
   * For a browser: the host the link was opened on (a cookie belongs to the host that sets it).
   * Undefined for command-line use, which takes the token itself.
   */
  browserHost?: string | undefined;
  /** The client's address, for the `grant.redeemed` audit event. */
  client?: string | undefined;
}

/**
 * What redeeming decided: the token for the grant's holder, or, for a browser on another host than
 * its host-routed resource, a fresh one-time code to finish on the resource's own host, or, for a
 * browser and a resource that takes bearer tokens only, nothing consumed: the link is for the
 * command line.
 */
export type Redeemed = { grant: LiveGrant; resource: Resource; effects: Effect[] } & (
  | { next: 'token'; token: string }
  | { next: 'hand-over'; host: string; code: string }
  | { next: 'command-line'; pathPrefix: string }
);

/**
 * Consumes a one-time redeem code (once: a second use is code_used) and mints the access token for
 * its grant, here and only here (it is never stored). The grant must still be live and its resource
 * still in the policy.
 *
 * @example const r = await redeemGrant(deps, { code }); // r.next === 'token': r.token, r.grant.expiresAt
 */
export async function redeemGrant(deps: RedeemDeps, input: RedeemInput): Promise<Redeemed> {
  if (input.browserHost !== undefined) {
    const bearerOnly = await bearerOnlyGrant(deps, input.code);
    if (bearerOnly) return { ...bearerOnly, effects: [], next: 'command-line' };
  }
  // The script that consumes the code answers its grant as it stood then: no read back.
  const grant = await deps.store.codes.consumeRedeemCode(input.code, input.client);
  const grantId = grant.id;
  if (!isLive(grant, deps.clock.now())) throw errorFor('grant_not_active', { grantId });
  const resource = deps.policy().resources.get(grant.resource);
  if (!resource) throw errorFor('no_such_resource', { resource: grant.resource });
  // Host-only cookies belong to the host that sets them, and the DM's link names the public URL's
  // host. So a browser that opened it elsewhere than its host-routed resource gets the consumed code
  // swapped for a fresh one, to be redeemed on the resource's own host (a host from the policy,
  // never from the request).
  if (
    input.browserHost !== undefined &&
    'host' in resource.match &&
    input.browserHost !== resource.match.host.toLowerCase()
  ) {
    const code = await deps.store.codes.createRedeemCode(grantId);
    return { grant, resource, effects: [], next: 'hand-over', host: resource.match.host, code };
  }
  const token = await signAccessToken(
    deps.keys,
    {
      issuer: deps.issuer,
      grantId,
      user: grant.user,
      email: grant.email,
      resource: resource.name,
      role: grant.role,
      expiresAt: grant.expiresAt,
      forCookie: input.browserHost !== undefined,
    },
    deps.clock,
  );
  return { grant, resource, effects: [], next: 'token', token };
}

/**
 * A browser cannot use a token for a pathPrefix resource without `browser: shared-origin` (it takes
 * no cookie), nor for a database, so its link is read without being consumed, to stay usable from
 * the command line.
 */
async function bearerOnlyGrant(
  deps: RedeemDeps,
  code: string,
): Promise<{ grant: LiveGrant; resource: Resource; pathPrefix: string } | undefined> {
  const grantId = await deps.store.codes.redeemCodeGrant(code);
  const grant = grantId ? await deps.store.queries.liveGrant(grantId) : undefined;
  if (!isLive(grant, deps.clock.now())) return undefined;
  const resource = deps.policy().resources.get(grant.resource);
  if (!resource || takesBrowserCookies(resource)) return undefined;
  // A database takes no browser at all: its token is a password for psql.
  if (resource.kind === 'postgres') return { grant, resource, pathPrefix: '' };
  if (!('pathPrefix' in resource.match)) return undefined;
  return { grant, resource, pathPrefix: resource.match.pathPrefix };
}
