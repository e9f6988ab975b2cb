import type { RequestAsk } from '../../shared/access/request.js';
import type { SlackUserId } from '../../shared/ids.js';
import type { BotDeps } from '../deps.js';
import { applyOutcome } from '../effects/apply.js';
import type { Tell } from './reply.js';

/**
 * Files a request from the one-line command or the modal: the use case decides (policy, limits,
 * auto-approval, break-glass), then the approvers and the requester hear of it.
 */
export async function submitRequest(
  deps: BotDeps,
  user: SlackUserId,
  input: RequestAsk,
  tell: Tell,
): Promise<void> {
  // The e-mail labels the grant for the upstream (X-JIT-Email). Without one, the use case refuses
  // where the resource requires it (requireEmail, the default) and otherwise files a grant with none.
  const email = await deps.people.emailOf(user).catch((err: unknown) => {
    deps.log.warn({ err: String(err), user }, 'no e-mail address from Slack for this person');
    return '';
  });
  await applyOutcome(deps, await deps.access.request({ ...input, user, email }), { actor: user, tell });
}
