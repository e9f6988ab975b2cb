import type { Clock } from '../clock.js';
import type { SlackUserId } from '../ids.js';
import type { UsergroupLookup } from './types.js';

/**
 * Caches a user-group lookup for `ttlMs` per group (counted from when the lookup started), with at
 * most one lookup in flight per group. Failures are not cached and reject, so that a caller deciding
 * who may approve fails closed; the next call asks again.
 *
 * @example
 *   const lookup = cachedUsergroupLookup((g) => slackGroupMembers(g), { ttlMs: 60_000, clock: systemClock });
 *   await isApprover(resource, user, lookup);
 */
export function cachedUsergroupLookup(
  fetch: UsergroupLookup,
  options: { ttlMs: number; clock: Clock },
): UsergroupLookup {
  const cache = new Map<string, { at: number; members: Promise<readonly SlackUserId[]> }>();
  return async (group) => {
    const hit = cache.get(group);
    const now = options.clock.now();
    if (hit && now - hit.at < options.ttlMs) return [...(await hit.members)];
    // Through an async step, so that a lookup that throws instead of rejecting is handled the same way.
    const members = Promise.resolve().then(() => fetch(group));
    cache.set(group, { at: now, members });
    members.catch(() => {
      if (cache.get(group)?.members === members) cache.delete(group);
    });
    // Each caller gets its own copy: one that sorts or edits it cannot change the cached list.
    return [...(await members)];
  };
}
