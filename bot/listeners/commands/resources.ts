import { requestableResources } from '../../../shared/policy/index.js';
import type { BotDeps } from '../../deps.js';
import { resourcesReply } from '../../views/replies.js';
import type { CommandContext } from './access.js';

/** `/access resources`: what the person may request, with the limits. */
export async function listResources(deps: BotDeps, ctx: CommandContext): Promise<void> {
  const resources = await requestableResources(deps.policy(), ctx.user, deps.people.usergroups);
  await ctx.tell(resourcesReply(resources));
}
