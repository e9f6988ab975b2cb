import type { ParsedCommand } from '../../commands/parse.js';
import type { BotDeps } from '../../deps.js';
import { applyOutcome } from '../../effects/apply.js';
import type { CommandContext } from './access.js';

/** `/access cancel <request-id>`: only the requester, only while it is pending (the same use case as the Cancel button). */
export async function cancelRequest(
  deps: BotDeps,
  ctx: CommandContext,
  parsed: Extract<ParsedCommand, { kind: 'cancel' }>,
): Promise<void> {
  await applyOutcome(deps, await deps.access.cancel(parsed.requestId, ctx.user), {
    actor: ctx.user,
    tell: ctx.tell,
  });
}
