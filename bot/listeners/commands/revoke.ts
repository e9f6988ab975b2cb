import type { ParsedCommand } from '../../commands/parse.js';
import type { BotDeps } from '../../deps.js';
import { applyOutcome } from '../../effects/apply.js';
import type { CommandContext } from './access.js';

/** `/access revoke <grant-id> [reason…]`: the holder, an approver of the resource or an admin (the same use case as the Revoke button). */
export async function revokeGrant(
  deps: BotDeps,
  ctx: CommandContext,
  parsed: Extract<ParsedCommand, { kind: 'revoke' }>,
): Promise<void> {
  const outcome = await deps.access.revoke(parsed.grantId, ctx.user, parsed.reason);
  await applyOutcome(deps, outcome, { actor: ctx.user, tell: ctx.tell });
}
