import type { GrantId, SlackUserId } from '../ids.js';

/**
 * A person's grants for one resource, as the grant scripts keep them (lua/includes/access.lua) and
 * the authorizer reads them for a signed-in person in one round trip (lua/person-access.lua).
 */
export interface PersonGrant {
  id: GrantId;
  /** `revoked` and `expired` entries stay a day past their end, so that a refusal can say why. */
  status: 'active' | 'revoked' | 'expired';
  expiresAt: number;
  role: string;
  user: SlackUserId;
  /** The Slack workspace the request came from, when it recorded one. */
  team: string | undefined;
  email: string;
}

/** Who a sign-in names, in the terms grants are held in (the authorizer's `Person`, without zod). */
export type GrantHolder = { kind: 'slack'; user: string; team: string } | { kind: 'email'; email: string };

/** What the hot-path read answers: the person's grants for the resource, and whether the session ended. */
export interface PersonAccess {
  ended: boolean;
  grants: PersonGrant[];
}

const STATUSES = new Set(['active', 'revoked', 'expired']);

/**
 * The entries of a person's access hash (flat field/value list, as HGETALL answers it); an entry that
 * does not parse is left out (never read as a grant).
 *
 * @example parsePersonGrants(['g_…', 'active|1765000000000|viewer|U0ALICE|T0ACME|alice@acme.com'])
 */
export function parsePersonGrants(flat: readonly string[]): PersonGrant[] {
  const grants: PersonGrant[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const value = flat[i + 1]!;
    const parts = value.split('|');
    if (parts.length < 6) continue;
    const [status, expiresAt, role, user, team] = parts as [string, string, string, string, string];
    const ends = Number(expiresAt);
    if (!STATUSES.has(status) || !Number.isFinite(ends) || role === '' || user === '') continue;
    grants.push({
      id: flat[i] as GrantId,
      status: status as PersonGrant['status'],
      expiresAt: ends,
      role,
      user: user as SlackUserId,
      team: team === '' ? undefined : team,
      // The e-mail is last and may itself hold a '|'.
      email: parts.slice(5).join('|'),
    });
  }
  return grants;
}
