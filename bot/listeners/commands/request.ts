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
  await submitRequest(
    deps,
    ctx.user,
    {
      resource: parsed.resource,
      role: parsed.role,
      durationMs: parsed.durationMs,
      reason: parsed.reason,
      breakGlass: parsed.breakGlass,
    },
    ctx.tell,
  );
}
