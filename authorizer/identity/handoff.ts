import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { RedisClient } from '../../shared/redis/connect.js';
import type { RedisKeys } from '../../shared/redis/keys.js';
import type { ReturnTo } from './hosts.js';
import { Session } from './session.js';

/**
 * Sign-in happens on the public URL's host (the one redirect URI the IdP knows); a host-routed
 * resource gets its own session cookie through a one-time code: created on the sign-in host,
 * stored hashed for 60 s, consumed once on the resource's host, bound to that host and to the
 * session (same sid, same absolute end). No cookie is ever set for a parent domain.
 */
export const HANDOFF_TTL_SEC = 60;

const Handoff = z.object({
  session: Session,
  to: z.object({ host: z.string(), path: z.string().startsWith('/'), bind: z.string().optional() }),
});
type Handoff = z.infer<typeof Handoff>;

const hashOf = (code: string) => createHash('sha256').update(code).digest('base64url');

/** Stores a handoff of `session` to `to.host` and returns its one-time code. */
export async function createHandoff(
  redis: RedisClient,
  keys: RedisKeys,
  session: Session,
  to: ReturnTo,
): Promise<string> {
  const code = randomBytes(32).toString('base64url');
  const handoff: Handoff = { session, to };
  await redis.set(keys.sessionHandoff(hashOf(code)), JSON.stringify(handoff), 'EX', HANDOFF_TTL_SEC);
  return code;
}

/**
 * Consumes a code (GETDEL: at most once, whatever the outcome) and returns its handoff when it was
 * made for `host` and for this browser (`bound`: whether it holds the binding cookie whose hash the
 * handoff recorded, bind.ts). Throws when Redis cannot be reached.
 */
export async function consumeHandoff(
  redis: RedisClient,
  keys: RedisKeys,
  code: string,
  host: string,
  bound: (hash: string | undefined) => boolean,
): Promise<
  | { ok: true; session: Session; path: string }
  | { ok: false; reason: 'code_unknown' | 'other_host' | 'other_browser' }
> {
  if (!/^[\w-]{43}$/.test(code)) return { ok: false, reason: 'code_unknown' };
  const raw = await redis.getdel(keys.sessionHandoff(hashOf(code)));
  if (raw === null) return { ok: false, reason: 'code_unknown' };
  let parsed: ReturnType<typeof Handoff.safeParse>;
  try {
    parsed = Handoff.safeParse(JSON.parse(raw));
  } catch {
    return { ok: false, reason: 'code_unknown' };
  }
  if (!parsed.success) return { ok: false, reason: 'code_unknown' };
  if (parsed.data.to.host !== host || parsed.data.session.host !== host)
    return { ok: false, reason: 'other_host' };
  if (!bound(parsed.data.to.bind)) return { ok: false, reason: 'other_browser' };
  return { ok: true, session: parsed.data.session, path: parsed.data.to.path };
}
