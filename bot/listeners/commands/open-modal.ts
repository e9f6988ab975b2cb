import { requestableResources } from '../../../shared/policy/index.js';
import type { BotDeps } from '../../deps.js';
import { requestModal } from '../../views/modals.js';
import type { CommandContext } from './access.js';

/** `/access` alone: the request form, listing only what this person may request. */
export async function openRequestModal(deps: BotDeps, ctx: CommandContext): Promise<void> {
  const resources = await requestableResources(deps.policy(), ctx.user, deps.people.usergroups);
  // The form remembers where it was opened, so that its answer comes back to the same place.
  const metadata = ctx.command.response_url ? JSON.stringify({ responseUrl: ctx.command.response_url }) : '';
  await deps.client.views.open({
    trigger_id: ctx.command.trigger_id,
    view: { ...requestModal(resources), private_metadata: metadata },
  });
}
