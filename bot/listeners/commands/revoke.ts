import type { ParsedCommand } from '../../commands/parse.js';
import type { BotDeps } from '../../deps.js';
import { revokedReply } from '../../views/replies.js';
import { announceRevoked } from '../announce.js';
import { publishHomes } from '../home.js';
import type { CommandContext } from './access.js';

/** `/access revoke <grant-id> [reason…]`: the holder, an approver of the resource or an admin. */
export async function revokeGrant(
  deps: BotDeps,
  ctx: CommandContext,
  parsed: Extract<ParsedCommand, { kind: 'revoke' }>,
): Promise<void> {
  const { request, already } = await deps.access.revoke(parsed.grantId, ctx.user, parsed.reason);
  const { missed } = already ? { missed: '' } : await announceRevoked(deps, request);
  await ctx.tell(revokedReply(request, already) + missed);
  if (!already) await publishHomes(deps, [request.requester, ctx.user]);
}
