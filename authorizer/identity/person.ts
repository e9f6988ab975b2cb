import { z } from 'zod';
import { SlackUserIdSchema } from '../../shared/ids.js';

export const SLACK_USER_CLAIM = 'https://slack.com/user_id';
export const SLACK_TEAM_CLAIM = 'https://slack.com/team_id';

/**
 * Who signed in, in the terms grants are held in: a Slack user of a workspace (Sign in with Slack,
 * exact), or a verified e-mail address (any other IdP; lower-cased).
 */
export const Person = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('slack'), user: SlackUserIdSchema, team: z.string().min(1) }),
  z.object({ kind: z.literal('email'), email: z.string().min(3).max(320) }),
]);
export type Person = z.infer<typeof Person>;

export type PersonResult =
  | { ok: true; person: Person; name?: string | undefined; email?: string | undefined }
  | { ok: false; reason: 'email_unverified' | 'claims_missing'; message: string };

// Checked as the IdP wrote it, then lower-cased: lower-casing first would turn look-alikes into
// someone else's address (U+212A KELVIN SIGN becomes a plain "k": "\u212Aaren@" reads as "karen@").
const Email = z
  .string()
  .trim()
  .pipe(z.email())
  .transform((s) => s.toLowerCase());

/**
 * The person an ID token names, or why it names nobody jitgate can match. `matchBy` is 'slack' for
 * Sign in with Slack (issuer https://slack.com), 'email' for any other issuer.
 *
 * @example personFrom('slack', claims) // { ok: true, person: { kind: 'slack', user: 'U0ALICE', team: 'T0ACME' } }
 */
export function personFrom(matchBy: 'slack' | 'email', claims: Record<string, unknown>): PersonResult {
  const name = typeof claims.name === 'string' && claims.name !== '' ? claims.name.slice(0, 200) : undefined;
  const email = Email.safeParse(claims.email);
  const verifiedEmail = email.success && claims.email_verified === true ? email.data : undefined;
  if (matchBy === 'slack') {
    const user = SlackUserIdSchema.safeParse(claims[SLACK_USER_CLAIM]);
    const team = claims[SLACK_TEAM_CLAIM];
    if (!user.success || typeof team !== 'string' || team === '') {
      return {
        ok: false,
        reason: 'claims_missing',
        message: `Slack's ID token did not carry ${SLACK_USER_CLAIM} and ${SLACK_TEAM_CLAIM}; check that the app asks for the openid scope.`,
      };
    }
    return { ok: true, person: { kind: 'slack', user: user.data, team }, name, email: verifiedEmail };
  }
  if (!email.success) {
    return {
      ok: false,
      reason: 'claims_missing',
      message:
        'Your identity provider did not send an e-mail address; jitgate matches people by it (ask for the email scope).',
    };
  }
  if (claims.email_verified !== true) {
    return {
      ok: false,
      reason: 'email_unverified',
      message: `Your identity provider does not say that ${email.data} is verified, so jitgate cannot match it to anyone. Verify the address with your identity provider, then sign in again.`,
    };
  }
  return { ok: true, person: { kind: 'email', email: email.data }, name, email: email.data };
}

/**
 * Whether `person` holds what Slack user `user` (with e-mail `email`) holds: the same Slack user for
 * Sign in with Slack, in the workspace the grant was asked for in when it recorded one (`team`),
 * else the same e-mail address (case and surrounding space aside). Every check of a person against
 * a grant goes through here (the session's grants, the redeem link's binding), so they agree.
 *
 * @example isHolder(session.person, grant) // grant: { user: 'U0ALICE', email: 'alice@acme.com', team: 'T0ACME', … }
 */
export function isHolder(
  person: Person,
  holder: { user: string; email: string; team?: string | undefined },
): boolean {
  if (person.kind === 'slack')
    return person.user === holder.user && (holder.team === undefined || holder.team === person.team);
  return holder.email !== '' && holder.email.trim().toLowerCase() === person.email;
}
