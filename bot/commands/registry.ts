import type { GrantId, RequestId } from '../../shared/ids.js';
import type { BotDeps } from '../deps.js';
import type { CommandContext } from '../listeners/commands/access.js';
import { cancelRequest } from '../listeners/commands/cancel.js';
import { extendGrant } from '../listeners/commands/extend.js';
import { listAccess } from '../listeners/commands/list.js';
import { openRequestModal } from '../listeners/commands/open-modal.js';
import { fileRequest } from '../listeners/commands/request.js';
import { listResources } from '../listeners/commands/resources.js';
import { revokeGrant } from '../listeners/commands/revoke.js';
import { escapeText } from '../views/mrkdwn.js';
import {
  durationArg,
  grantIdArg,
  noBreakGlass,
  noteArg,
  nothingAfter,
  type RequestArgs,
  refuse,
  requestArgs,
  requestIdArg,
} from './args.js';

/**
 * Every `/access` sub-command, once: its form, a line for help, how its words are read and who
 * handles it. Dispatch (listeners/commands/access.ts), the forms shown beside errors (USAGE) and
 * `/access help` all come from here, so a new sub-command is an entry here (and its arguments in
 * CommandArgs) plus its handler in listeners/commands/.
 */

/** What each sub-command's words come to once read (`kind` is the sub-command's name). */
export interface CommandArgs {
  modal: Record<never, never>;
  request: RequestArgs;
  list: Record<never, never>;
  resources: Record<never, never>;
  revoke: { grantId: GrantId; reason: string };
  cancel: { requestId: RequestId };
  extend: { grantId: GrantId; durationMs: number; reason: string };
  help: Record<never, never>;
}

export type CommandName = keyof CommandArgs;

/** What `/access <text>` asks for, once its text has been checked. */
export type ParsedCommand = { [K in CommandName]: { kind: K } & CommandArgs[K] }[CommandName];

interface SubCommandBase<K extends CommandName> {
  /** The form, as shown beside an error and in help. */
  syntax: string;
  /** One line for help. */
  description: string;
  example?: string;
  /** Another form of the same sub-command, shown in help on its own line (e.g. `--break-glass`). */
  variant?: { syntax: string; description: string; example: string };
  /**
   * How the sub-command is typed: by its name (the default), as `/access` alone (`empty`), or as
   * anything that is no other sub-command's name (`fallback`, the one-line request).
   */
  invoked?: 'empty' | 'fallback';
  /**
   * Its use case's refusals show this form rather than the one their code suggests (a duration over
   * the limit on `extend` is answered with the extend form, not the request form).
   */
  ownFormOnRefusal?: true;
  /** Reads the words after the name (all the words for `fallback`); throws through the readers in args.ts. */
  parse(words: readonly string[], syntax: string): CommandArgs[K];
}

/** A sub-command answered after the ack (through the response_url), or in the ack itself. */
export type SubCommand<K extends CommandName> = SubCommandBase<K> &
  (
    | { handle(deps: BotDeps, ctx: CommandContext, parsed: { kind: K } & CommandArgs[K]): Promise<void> }
    | { answerInAck(): string }
  );

/** In help's order. */
export const SUBCOMMANDS: { readonly [K in CommandName]: SubCommand<K> } = {
  modal: {
    syntax: '/access',
    description: 'opens a form (resource, role, duration, reason)',
    invoked: 'empty',
    parse: () => ({}),
    handle: openRequestModal,
  },
  request: {
    syntax: '/access <resource>[/<role>] <duration> <reason…>',
    description: 'asks for access',
    example: '/access grafana/viewer 2h INC-123 dashboards',
    variant: {
      syntax: '/access <resource> <duration> <reason…> --break-glass',
      description: 'where the resource allows it, access at once, posted loudly and reviewed after',
      example: '/access grafana 1h INC-123 outage --break-glass',
    },
    invoked: 'fallback',
    parse: (words, syntax) => requestArgs(words, syntax),
    handle: fileRequest,
  },
  list: {
    syntax: '/access list',
    description: 'your active access and pending requests',
    parse: (words) => nothingAfter('list', words),
    handle: listAccess,
  },
  revoke: {
    syntax: '/access revoke <grant-id> [reason…]',
    description: 'ends access early',
    example: '/access revoke g_… done early',
    parse: ([id, ...note]) => {
      if (id !== undefined) noBreakGlass(note);
      return { grantId: grantIdArg(id, 'Say which grant to revoke.'), reason: noteArg(note) };
    },
    handle: revokeGrant,
  },
  cancel: {
    syntax: '/access cancel <request-id>',
    description: 'withdraws a request still waiting for approval',
    example: '/access cancel r_…',
    parse: ([id, ...extra]) => {
      const requestId = requestIdArg(id, 'Say which request to cancel.');
      if (extra.length > 0) refuse('`cancel` takes only the request id.');
      return { requestId };
    },
    handle: cancelRequest,
  },
  extend: {
    syntax: '/access extend <grant-id> <duration> [reason…]',
    description: 'asks for more time (approved again)',
    example: '/access extend g_… 1h still on INC-123',
    ownFormOnRefusal: true,
    parse: (words) => {
      const [id, duration, ...note] = words;
      if (id !== undefined) noBreakGlass(words);
      const grantId = grantIdArg(id, 'Say which grant to extend and by how long.');
      const durationMs = durationArg(duration, 'Say how much longer you need, e.g. 30m or 1h.');
      return { grantId, durationMs, reason: noteArg(note) };
    },
    handle: extendGrant,
  },
  resources: {
    syntax: '/access resources',
    description: 'what you may ask for, with limits',
    parse: (words) => nothingAfter('resources', words),
    handle: listResources,
  },
  help: {
    syntax: '/access help',
    description: 'this message',
    parse: () => ({}),
    answerInAck: () => helpText(),
  },
};

/** The form of each sub-command, by name: what errors show (`Use …`). */
export const USAGE = Object.fromEntries(
  Object.entries(SUBCOMMANDS).map(([name, sub]) => [name, sub.syntax]),
) as { readonly [K in CommandName]: string };

/** Inline code for a form: `<` and `>` are Slack's link syntax even inside backticks, so they are escaped. */
const code = (form: string) => `\`${escapeText(form)}\``;

/** `/access help`: every sub-command's form, what it does and an example, from the registry. */
export function helpText(): string {
  const line = (f: { syntax: string; description: string; example?: string | undefined }) =>
    `• ${code(f.syntax)}: ${f.description}${f.example ? `, e.g. ${code(f.example)}` : ''}`;
  const lines = Object.values(SUBCOMMANDS).flatMap((sub: SubCommandBase<CommandName>) =>
    sub.variant ? [line(sub), line(sub.variant)] : [line(sub)],
  );
  return [
    '*jitgate: just-in-time access, approved in Slack*',
    ...lines,
    'Durations look like `30m`, `2h`, `1h30m`. When access is granted you get a DM with a one-time link.',
  ].join('\n');
}
