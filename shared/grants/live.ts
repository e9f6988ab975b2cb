/**
 * An active grant that has not run out yet: a grant as the hot path reads it (`LiveGrant`) or an
 * entry of a person's grants (`PersonGrant`). The key's TTL ends a grant in Redis too, but a read in
 * the last milliseconds before that must not count as live.
 *
 * @example if (!isLive(await store.queries.liveGrant(grantId), clock.now())) refuse();
 */
export function isLive<G extends { status: string; expiresAt: number }>(
  grant: G | undefined,
  now: number,
): grant is G {
  return grant?.status === 'active' && grant.expiresAt > now;
}
