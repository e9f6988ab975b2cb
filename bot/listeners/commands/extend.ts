import type { ParsedCommand } from '../../commands/parse.js';
import type { BotDeps } from '../../deps.js';
import { applyOutcome } from '../../effects/apply.js';
import type { CommandContext } from './access.js';

/**
 * `/access extend <grant-id> <duration> [reason…]`: asks for more time in the grant's thread, to be
 * approved like a new request (or at once where the holder is auto-approved). Its refusals show the
 * extend form (the registry's `ownFormOnRefusal`).
 */
export async function extendGrant(
  deps: BotDeps,
  ctx: CommandContext,
  parsed: Extract<ParsedCommand, { kind: 'extend' }>,
): Promise<void> {
  const outcome = await deps.access.extend(parsed.grantId, ctx.user, parsed.durationMs, parsed.reason);
  await applyOutcome(deps, outcome, { actor: ctx.user, tell: ctx.tell });
}
