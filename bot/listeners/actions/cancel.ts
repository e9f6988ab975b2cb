import { RequestIdSchema } from '../../../shared/ids.js';
import type { BotDeps } from '../../deps.js';
import { cancelledReply } from '../../views/replies.js';
import { announceCancelled } from '../announce.js';
import { publishHomes } from '../home.js';
import { onButton } from './button.js';

/** Cancel (`value` = request id): only the requester, while it is pending. */
export function cancelButton(deps: BotDeps) {
  return onButton(deps, RequestIdSchema, async ({ user, value, tell }) => {
    const { request } = await deps.access.cancel(value, user);
    await announceCancelled(deps, request);
    await tell(cancelledReply(request));
    await publishHomes(deps, [request.requester]);
  });
}
