import { isJitgateError } from '../../../shared/errors.js';
import type { ParsedCommand } from '../../commands/parse.js';
import { USAGE } from '../../commands/parse.js';
import type { BotDeps } from '../../deps.js';
import { grantedReply, requestFiledReply } from '../../views/replies.js';
import { announceFiled } from '../announce.js';
import { publishHomes } from '../home.js';
import type { CommandContext } from './access.js';

/**
 * `/access extend <grant-id> <duration> [reason…]`: asks for more time in the grant's thread, to be
 * approved like a new request (or at once where the holder is auto-approved).
 */
export async function extendGrant(
  deps: BotDeps,
  ctx: CommandContext,
  parsed: Extract<ParsedCommand, { kind: 'extend' }>,
): Promise<void> {
  const outcome = await deps.access
    .extend(parsed.grantId, ctx.user, parsed.durationMs, parsed.reason)
    .catch((err: unknown) => {
      if (isJitgateError(err)) err.fields.usage ??= USAGE.extend;
      throw err;
    });
  const { missed } = await announceFiled(deps, outcome);
  const { request } = outcome;
  const channel = deps.policy().resources.get(request.resource)?.approvalChannel;
  const reply = request.status === 'approved' ? grantedReply(request) : requestFiledReply(request, channel);
  await ctx.tell(reply + missed);
  await publishHomes(deps, [ctx.user]);
}
