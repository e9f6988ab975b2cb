import type { Clock } from '../clock.js';
import type { SlackUserId } from '../ids.js';
import type { UsergroupLookup } from './types.js';

/**
 * Caches a user-group lookup for `ttlMs`, with one request in flight per group. Failures are not
 * cached and reject, so that a caller deciding who may approve fails closed.
 */
export function cachedUsergroupLookup(
  fetch: UsergroupLookup,
  options: { ttlMs: number; clock: Clock },
): UsergroupLookup {
  const cache = new Map<string, { at: number; members: Promise<SlackUserId[]> }>();
  return (group) => {
    const hit = cache.get(group);
    if (hit && options.clock.now() - hit.at < options.ttlMs) return hit.members;
    const members = fetch(group);
    cache.set(group, { at: options.clock.now(), members });
    members.catch(() => {
      if (cache.get(group)?.members === members) cache.delete(group);
    });
    return members;
  };
}
