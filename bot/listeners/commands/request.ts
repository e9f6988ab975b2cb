import type { ParsedCommand } from '../../commands/parse.js';
import type { BotDeps } from '../../deps.js';
import { submitRequest } from '../submit-request.js';
import type { CommandContext } from './access.js';

/** `/access <resource>[/<role>] <duration> <reason…> [--break-glass]` */
export async function fileRequest(
  deps: BotDeps,
  ctx: CommandContext,
  parsed: Extract<ParsedCommand, { kind: 'request' }>,
): Promise<void> {
  const { kind: _, ...ask } = parsed;
  await submitRequest(deps, ctx.user, { ...ask, team: ctx.command.team_id }, ctx.tell);
}
