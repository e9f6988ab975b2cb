import type { SlackUserId } from '../../shared/ids.js';
import { homeView } from '../views/home.js';
import type { EffectDeps } from './deps.js';

type HomeDeps = Pick<EffectDeps, 'client' | 'clock' | 'log'> & {
  access: NonNullable<EffectDeps['access']>;
};

/** Publishes one person's App Home: their grants, their pending requests, and what waits for their decision. */
export async function publishHome(deps: HomeDeps, user: SlackUserId): Promise<void> {
  const [{ grants, pending }, awaiting, toReview] = await Promise.all([
    deps.access.list(user),
    deps.access.awaiting(user),
    deps.access.awaitingReview(user),
  ]);
  await deps.client.views.publish({
    user_id: user,
    view: homeView({ grants, pending, awaiting, toReview }, deps.clock.now()),
  });
}

/**
 * After a change, the homes of the people involved are brought up to date. Best effort: a home
 * that fails to publish is refreshed the next time its owner opens it.
 */
export async function publishHomes(deps: HomeDeps, users: readonly SlackUserId[]): Promise<void> {
  const unique = [...new Set(users)];
  await Promise.all(
    unique.map((user) =>
      publishHome(deps, user).catch((err: unknown) =>
        deps.log.warn({ err: String(err), user }, 'App Home not refreshed'),
      ),
    ),
  );
}
