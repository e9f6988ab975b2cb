import type { BotDeps } from '../../deps.js';
import { listReply } from '../../views/replies.js';
import type { CommandContext } from './access.js';

/** `/access list`: the person's active grants and pending requests. */
export async function listAccess(deps: BotDeps, ctx: CommandContext): Promise<void> {
  const list = await deps.access.list(ctx.user);
  await ctx.tell(listReply(list, deps.clock.now()));
}
