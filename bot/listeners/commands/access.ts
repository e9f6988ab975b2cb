import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { isCommandError, type ParsedCommand, parseAccessCommand } from '../../commands/parse.js';
import type { BotDeps } from '../../deps.js';
import { escapeText } from '../../views/mrkdwn.js';
import { helpText } from '../../views/replies.js';
import { firstDelivery } from '../once.js';
import { type Tell, tellActor } from '../reply.js';
import { CommandBody } from '../slack-input.js';
import { cancelRequest } from './cancel.js';
import { extendGrant } from './extend.js';
import { listAccess } from './list.js';
import { openRequestModal } from './open-modal.js';
import { fileRequest } from './request.js';
import { listResources } from './resources.js';
import { revokeGrant } from './revoke.js';

/** What every `/access` sub-handler gets: who asked, where, and how to answer them privately. */
export interface CommandContext {
  command: CommandBody;
  user: CommandBody['user_id'];
  tell: Tell;
}

/**
 * `/access …`. Bad input and help are answered in the ack itself (nothing is stored). Everything
 * else is acknowledged at once and answered through the response_url once done.
 */
export function accessCommand(deps: BotDeps) {
  return async ({ ack, body, context }: SlackCommandMiddlewareArgs & AllMiddlewareArgs): Promise<void> => {
    const command = CommandBody.safeParse(body);
    if (!command.success) {
      await ack({
        response_type: 'ephemeral',
        text: ':warning: jitgate could not read this command; try again.',
      });
      return;
    }
    const parsed = parseAccessCommand(command.data.text);
    if (isCommandError(parsed)) {
      await ack({
        response_type: 'ephemeral',
        text: `:warning: ${escapeText(parsed.error)}\nUse \`${escapeText(parsed.usage)}\`. \`/access help\` shows every form.`,
      });
      return;
    }
    if (parsed.kind === 'help') {
      await ack({ response_type: 'ephemeral', text: helpText() });
      return;
    }
    await ack();
    if (!(await firstDelivery(deps, body, context))) return;
    const ctx: CommandContext = {
      command: command.data,
      user: command.data.user_id,
      tell: tellActor(deps, body),
    };
    await run(deps, ctx, parsed);
  };
}

function run(
  deps: BotDeps,
  ctx: CommandContext,
  parsed: Exclude<ParsedCommand, { kind: 'help' }>,
): Promise<void> {
  switch (parsed.kind) {
    case 'modal':
      return openRequestModal(deps, ctx);
    case 'list':
      return listAccess(deps, ctx);
    case 'resources':
      return listResources(deps, ctx);
    case 'request':
      return fileRequest(deps, ctx, parsed);
    case 'revoke':
      return revokeGrant(deps, ctx, parsed);
    case 'extend':
      return extendGrant(deps, ctx, parsed);
    case 'cancel':
      return cancelRequest(deps, ctx, parsed);
  }
}
