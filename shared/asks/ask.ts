import { createHash } from 'node:crypto';
import { z } from 'zod';
import { RequestIdSchema, SlackUserIdSchema } from '../ids.js';

/**
 * Who asks from a page: the person a sign-in names. With Sign in with Slack, a Slack user (exact);
 * with any other IdP, a verified e-mail address, which the bot's side matches to a Slack user
 * (`users.lookupByEmail`) when it files the request.
 */
export const Asker = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('slack'), user: SlackUserIdSchema, team: z.string().min(1).optional() }),
  z.object({ kind: z.literal('email'), email: z.string().min(3).max(320) }),
]);
export type Asker = z.infer<typeof Asker>;

/**
 * A request asked for on a resource's refusal page, as the authorizer and the worker share it in
 * Redis (one per person and resource, `keys.ask`). The authorizer names the request (`id`) before it
 * exists, so its page can follow it; the worker files it under that id, or under another when the
 * person already had one pending (`requestId`), or refuses it (`refused`, with the reason).
 */
export const Ask = z.object({
  id: RequestIdSchema,
  asker: Asker,
  resource: z.string().min(1),
  /** The session that asked (its page follows the request). */
  sid: z.string().min(1),
  /** The address the person was refused at: where their page goes back to once approved. */
  returnTo: z.string().min(1),
  at: z.number(),
  /** The request the page follows, when it is not `id` (the person had one pending already). */
  requestId: RequestIdSchema.optional(),
  /** Set by the worker when it could not file the request: what to tell the person. */
  refused: z.string().optional(),
});
export type Ask = z.infer<typeof Ask>;

/** The request the ask's page follows. */
export const followedRequest = (ask: Ask) => ask.requestId ?? ask.id;

/**
 * Who asks, as a key part: a hash, so that an e-mail address never appears in a key name.
 *
 * @example askerHash({ kind: 'slack', user: 'U0ALICE' }) // 'mXk…' (22 characters)
 */
export function askerHash(asker: Asker): string {
  const id = asker.kind === 'slack' ? `slack:${asker.user}` : `email:${asker.email.toLowerCase()}`;
  return createHash('sha256').update(id).digest('base64url').slice(0, 22);
}

/** Whether two askers are the same person (e-mail compared lower-cased). */
export function sameAsker(a: Asker, b: Asker): boolean {
  if (a.kind === 'slack') return b.kind === 'slack' && a.user === b.user;
  return b.kind === 'email' && a.email.toLowerCase() === b.email.toLowerCase();
}
