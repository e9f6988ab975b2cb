import type { LiveGrant } from './records.js';

/**
 * An active grant that has not run out yet. The key's TTL ends a grant in Redis too, but a read in
 * the last milliseconds before that must not count as live.
 *
 * @example if (!isLive(await store.queries.liveGrant(grantId), clock.now())) refuse();
 */
export function isLive(grant: LiveGrant | undefined, now: number): grant is LiveGrant {
  return grant?.status === 'active' && grant.expiresAt > now;
}
