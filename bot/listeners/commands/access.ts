import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { isJitgateError } from '../../../shared/errors.js';
import { isCommandError, parseAccessCommand } from '../../commands/parse.js';
import { type CommandName, SUBCOMMANDS, type SubCommand } from '../../commands/registry.js';
import type { BotDeps } from '../../deps.js';
import { badInputReply } from '../../views/replies.js';
import { firstDelivery } from '../once.js';
import { type Tell, tellActor } from '../reply.js';
import { CommandBody } from '../slack-input.js';

/** What every `/access` sub-handler gets: who asked, where, and how to answer them privately. */
export interface CommandContext {
  command: CommandBody;
  user: CommandBody['user_id'];
  tell: Tell;
}

/**
 * `/access …`, dispatched by the registry (commands/registry.ts). Bad input and help are answered in
 * the ack itself (nothing is stored). Everything else is acknowledged at once and answered through
 * the response_url once done.
 */
export function accessCommand(deps: BotDeps) {
  return async ({ ack, body, context }: SlackCommandMiddlewareArgs & AllMiddlewareArgs): Promise<void> => {
    const command = CommandBody.safeParse(body);
    if (!command.success) {
      await ack({ response_type: 'ephemeral', text: badInputReply(undefined) });
      return;
    }
    const parsed = parseAccessCommand(command.data.text);
    if (isCommandError(parsed)) {
      await ack({ response_type: 'ephemeral', text: badInputReply(parsed) });
      return;
    }
    const sub = SUBCOMMANDS[parsed.kind] as SubCommand<CommandName>;
    if ('answerInAck' in sub) {
      await ack({ response_type: 'ephemeral', text: sub.answerInAck() });
      return;
    }
    await ack();
    if (!(await firstDelivery(deps, body, context))) return;
    const ctx: CommandContext = {
      command: command.data,
      user: command.data.user_id,
      tell: tellActor(deps, body),
    };
    try {
      // `sub` is the entry of `parsed.kind`, so its handler takes exactly this parsed command.
      await sub.handle(deps, ctx, parsed as Parameters<typeof sub.handle>[2]);
    } catch (err) {
      if (sub.ownFormOnRefusal && isJitgateError(err)) err.fields.usage ??= sub.syntax;
      throw err;
    }
  };
}
