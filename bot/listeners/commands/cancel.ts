import type { ParsedCommand } from '../../commands/parse.js';
import type { BotDeps } from '../../deps.js';
import { cancelledReply } from '../../views/replies.js';
import { announceCancelled } from '../announce.js';
import { publishHomes } from '../home.js';
import type { CommandContext } from './access.js';

/** `/access cancel <request-id>`: only the requester, only while it is pending. */
export async function cancelRequest(
  deps: BotDeps,
  ctx: CommandContext,
  parsed: Extract<ParsedCommand, { kind: 'cancel' }>,
): Promise<void> {
  const { request } = await deps.access.cancel(parsed.requestId, ctx.user);
  await announceCancelled(deps, request);
  await ctx.tell(cancelledReply(request));
  await publishHomes(deps, [request.requester]);
}
