import type { RequestInput } from '../../shared/access/service.js';
import type { SlackUserId } from '../../shared/ids.js';
import type { BotDeps } from '../deps.js';
import { grantedReply, requestFiledReply } from '../views/replies.js';
import { announceFiled } from './announce.js';
import { publishHomes } from './home.js';
import type { Tell } from './reply.js';

/**
 * Files a request from the one-line command or the modal: the use case decides (policy, limits,
 * auto-approval, break-glass), then the approvers and the requester hear of it.
 */
export async function submitRequest(
  deps: BotDeps,
  user: SlackUserId,
  input: Omit<RequestInput, 'user' | 'email'>,
  tell: Tell,
): Promise<void> {
  // The e-mail only labels the grant for the upstream (X-JIT-Email); a Slack that cannot say it must
  // not stand between an engineer and an approval.
  const email = await deps.people.emailOf(user).catch((err: unknown) => {
    deps.log.warn({ err: String(err), user }, 'no e-mail address from Slack; filing the request without one');
    return '';
  });
  const outcome = await deps.access.request({ ...input, user, email });
  const { missed } = await announceFiled(deps, outcome);
  const { request } = outcome;
  const channel = deps.policy().resources.get(request.resource)?.approvalChannel;
  await tell(
    (request.status === 'approved' ? grantedReply(request) : requestFiledReply(request, channel)) + missed,
  );
  await publishHomes(deps, [user]);
}
