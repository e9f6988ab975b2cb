import { type Clock, utcMinute } from '../../shared/clock.js';
import { isLive } from '../../shared/grants/live.js';
import type { PersonAccess, PersonGrant } from '../../shared/grants/store.js';
import { messageOf } from '../../shared/messages.js';
import { type Resource, roleAllows, takesBrowserCookies } from '../../shared/policy/index.js';
import { isHolder } from '../identity/person.js';
import type { Session, SessionOf } from '../identity/session.js';
import { type Check, outOfOrder, refuse } from './context.js';
import type { HttpAccess } from './http.js';

/** The one read the session check makes: the person's grants and the logout key, in one script call. */
export interface PersonAccessReader {
  personAccess(resource: string, holder: Session['person'], sid: string): Promise<PersonAccess>;
}

export interface SessionCheckDeps {
  /** Opens the session cookie sent to this host: crypto only, cached (then synchronous), no Redis. */
  openSession: (cookieHeader: string | undefined, host: string | undefined) => SessionOf | Promise<SessionOf>;
  store: PersonAccessReader;
  clock: Clock;
}

/** Why a request has no session, worded for the person (their browser is sent to sign in instead). */
const NO_SESSION: Record<Exclude<SessionOf, { ok: true }>['reason'] | 'session_ended', string> = {
  session_missing: 'Sign in, or send an access token.',
  session_invalid: 'Your sign-in is not valid here; sign in again.',
  session_expired: 'Your sign-in has expired; sign in again.',
  session_other_host: 'Your sign-in is for another host; sign in again here.',
  session_ended: 'You signed out; sign in again.',
};

/**
 * Session (HTTP, with sign-in on): the person signed in on this host, and the grant of theirs for
 * this resource that allows the request. ONE Redis round trip: the person's grants for the resource
 * (by Slack user id for Sign in with Slack, by verified e-mail otherwise) and the session's logout
 * key, read by one script. Among the person's live grants it picks one whose role allows this
 * method and path (the latest to expire), so that the role check after it refuses only when none
 * does. It sets the identity and the grant's expiry, as the token and grant checks do for a token,
 * so the grant check has nothing left to read. A revoked or expired grant is refused on the next
 * request, as for a token: the entries are read on every request, never cached.
 *
 * Like an access cookie, a session counts only where the resource takes browser cookies (a host
 * resource, or a pathPrefix one with `browser: shared-origin`); elsewhere it takes bearer tokens.
 *
 * Also judges an access cookie when sign-in is on (the token check ran first and set its claims):
 * the cookie counts only for the person it was issued to, signed in here; then the session decides.
 */
export function sessionCheck(deps: SessionCheckDeps): Check<HttpAccess> {
  return async function session(ctx) {
    const resource = ctx.resource;
    if (resource === undefined || ctx.upstreamPath === undefined) return outOfOrder(ctx, 'session', 'route');
    const opened = deps.openSession(ctx.cookies, ctx.host);
    // A cookie opened before is answered at once: no await for work that did no I/O.
    const found = opened instanceof Promise ? await opened : opened;
    if (!found.ok) return needsSignIn(ctx, found.reason);
    const { person, sid } = found.session;
    ctx.session = found.session;
    if (ctx.user !== undefined && !isHolder(person, { user: ctx.user, email: ctx.email ?? '' })) {
      // A token from a cookie, issued to someone else: a copied cookie.
      return refuse(
        ctx,
        'token_invalid',
        `This access cookie was issued to someone else, not to you (signed in as ${signedInAs(found.session)}).`,
      );
    }
    let access: PersonAccess;
    try {
      access = await deps.store.personAccess(resource.name, person, sid);
    } catch {
      // Fail closed: without Redis neither the grants nor the logout can be known, so the session
      // does not count as signed in either (no "Signed in as" on the refusal, no request form).
      ctx.session = undefined;
      return refuse(ctx, 'unavailable', 'jitgate cannot complete sign-in right now, so it refuses.');
    }
    if (access.ended) {
      // Signed out: the refusal must not greet the person as still signed in.
      ctx.session = undefined;
      return needsSignIn(ctx, 'session_ended');
    }
    if (!takesBrowserCookies(resource)) {
      // On the shared origin a script on any other upstream's page could send this session too.
      return refuse(
        ctx,
        'token_missing',
        `${resource.name} takes bearer tokens only, not a browser sign-in.`,
        { signIn: true },
      );
    }
    const now = deps.clock.now();
    const chosen = choose(resource, access.grants, person, now, ctx.method, ctx.upstreamPath);
    if (chosen === undefined) return refuseWithout(ctx, resource, access.grants, person);
    ctx.user = chosen.user;
    ctx.email = chosen.email;
    ctx.grantId = chosen.id;
    ctx.roleName = chosen.role;
    ctx.expiresAt = chosen.expiresAt;
    return undefined;
  };
}

/** How a session's person is named on pages: the e-mail when known, else the Slack user id. */
export function signedInAs(session: Session): string {
  return session.person.kind === 'email' ? session.person.email : (session.email ?? session.person.user);
}

function needsSignIn(ctx: HttpAccess, reason: keyof typeof NO_SESSION) {
  ctx.signInNeeded = true;
  return refuse(ctx, 'token_missing', NO_SESSION[reason], { signIn: true });
}

/**
 * The person's live grant for this request: one whose role allows it (the latest to expire), else
 * any live one (the latest), which the role check then refuses with what would allow it.
 */
function choose(
  resource: Resource,
  grants: readonly PersonGrant[],
  person: Session['person'],
  now: number,
  method: string,
  path: string,
): PersonGrant | undefined {
  let allowing: PersonGrant | undefined;
  let any: PersonGrant | undefined;
  for (const g of grants) {
    if (!isLive(g, now) || !isHolder(person, g)) continue;
    if (any === undefined || g.expiresAt > any.expiresAt) any = g;
    const role = resource.roles.find((r) => r.name === g.role);
    if (
      role &&
      roleAllows(role, method, path) &&
      (allowing === undefined || g.expiresAt > allowing.expiresAt)
    ) {
      allowing = g;
    }
  }
  return allowing ?? any;
}

/** No live grant: say why (revoked, expired, or none at all), from the one that ended last. */
function refuseWithout(
  ctx: HttpAccess,
  resource: Resource,
  grants: readonly PersonGrant[],
  person: Session['person'],
) {
  let latest: PersonGrant | undefined;
  for (const g of grants) {
    if (isHolder(person, g) && (latest === undefined || g.expiresAt > latest.expiresAt)) latest = g;
  }
  if (latest === undefined)
    return refuse(ctx, 'no_grant', messageOf('no_grant', { resource: resource.name }));
  // Every entry here is ended (a live one would have been chosen): say how the latest ended.
  ctx.roleName = latest.role;
  const what = `Your access to ${resource.name} (${latest.role})`;
  if (latest.status === 'revoked') return refuse(ctx, 'grant_revoked', `${what} was revoked.`);
  return refuse(ctx, 'grant_expired', `${what} expired at ${utcMinute(latest.expiresAt)}.`);
}
