import type { WebClient } from '@slack/web-api';
import type { Clock } from '../../shared/clock.js';
import { type SlackUserId, SlackUserIdSchema } from '../../shared/ids.js';
import { cachedUsergroupLookup } from '../../shared/policy/index.js';
import type { UsergroupLookup } from '../../shared/policy/types.js';
import { slackErrorOf } from './slack-errors.js';

export interface SlackPeople {
  /** Members of a Slack user group (`usergroups.users.list`), cached for `ttlMs`. */
  usergroups: UsergroupLookup;
  /** The person's e-mail (`users.info` → `profile.email`), cached; '' when Slack has none to give. */
  emailOf(user: SlackUserId): Promise<string>;
  /**
   * The Slack user with this e-mail address (`users.lookupByEmail`), or undefined when Slack knows
   * none (a person signed in with another IdP is found this way). Not cached: it is asked once per
   * request filed from a page.
   */
  userByEmail(email: string): Promise<SlackUserId | undefined>;
}

/**
 * Who people are in Slack, with a short cache so that a busy approval channel does not call Slack
 * for every click. A user group Slack no longer knows has no members (it approves nothing).
 *
 * @example const people = slackPeople(client, { ttlMs: 60_000, clock: systemClock });
 */
export function slackPeople(client: WebClient, options: { ttlMs: number; clock: Clock }): SlackPeople {
  const usergroups = cachedUsergroupLookup(async (usergroup: string) => {
    try {
      const res = await client.usergroups.users.list({ usergroup });
      return (res.users ?? []) as SlackUserId[];
    } catch (err) {
      if (slackErrorOf(err) === 'no_such_subteam') return [];
      throw err;
    }
  }, options);

  const emails = new Map<string, { at: number; email: Promise<string> }>();
  async function emailOf(user: SlackUserId): Promise<string> {
    const now = options.clock.now();
    const hit = emails.get(user);
    if (hit && now - hit.at < options.ttlMs) return hit.email;
    const email = client.users.info({ user }).then((res) => res.user?.profile?.email ?? '');
    emails.set(user, { at: now, email });
    // A failed lookup is not cached: the next call asks again.
    email.catch(() => {
      if (emails.get(user)?.email === email) emails.delete(user);
    });
    if (emails.size > 10_000) emails.delete(emails.keys().next().value as string);
    return email;
  }

  async function userByEmail(email: string): Promise<SlackUserId | undefined> {
    try {
      const res = await client.users.lookupByEmail({ email });
      const found = SlackUserIdSchema.safeParse(res.user?.id);
      return found.success && res.user?.deleted !== true ? found.data : undefined;
    } catch (err) {
      if (slackErrorOf(err) === 'users_not_found') return undefined;
      throw err;
    }
  }

  return { usergroups, emailOf, userByEmail };
}
