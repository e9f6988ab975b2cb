import { GrantIdSchema } from '../../../shared/ids.js';
import type { BotDeps } from '../../deps.js';
import { revokedReply } from '../../views/replies.js';
import { announceRevoked } from '../announce.js';
import { publishHomes } from '../home.js';
import { onButton } from './button.js';

/** Revoke (`value` = grant id): the holder, an approver of the resource or an admin. */
export function revokeButton(deps: BotDeps) {
  return onButton(deps, GrantIdSchema, async ({ user, value, tell }) => {
    const { request, already } = await deps.access.revoke(value, user);
    const { missed } = already ? { missed: '' } : await announceRevoked(deps, request);
    await tell(revokedReply(request, already) + missed);
    if (!already) await publishHomes(deps, [request.requester, user]);
  });
}
