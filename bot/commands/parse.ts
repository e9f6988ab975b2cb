import { ArgumentRefusal, type CommandError, isCommandError } from './args.js';
import { type CommandName, type ParsedCommand, SUBCOMMANDS, USAGE } from './registry.js';

export { type CommandError, isCommandError, type ParsedCommand, USAGE };

/**
 * Parses the text after `/access` by the registry: `/access` alone, a sub-command's name (any case)
 * and its words, or else a one-line request. Never throws: bad input comes back as
 * `{ error, usage }` with the sub-command's form.
 *
 * @example parseAccessCommand('grafana/viewer 2h INC-123 dashboards')
 *   // { kind: 'request', resource: 'grafana', role: 'viewer', durationMs: 7_200_000, reason: 'INC-123 dashboards', breakGlass: false }
 */
export function parseAccessCommand(text: string): ParsedCommand | CommandError {
  const words = (text ?? '').split(/\s+/u).filter((w) => w.length > 0);
  const [first, ...rest] = words;
  if (first === undefined) return read(invoked('empty'), []);
  const named = byName(first.toLowerCase());
  return named ? read(named, rest) : read(invoked('fallback'), words);
}

function read(kind: CommandName, words: readonly string[]): ParsedCommand | CommandError {
  const { syntax, parse } = SUBCOMMANDS[kind];
  try {
    return { kind, ...parse(words, syntax) } as ParsedCommand;
  } catch (err) {
    if (err instanceof ArgumentRefusal) return { error: err.message, usage: err.usage ?? syntax };
    throw err;
  }
}

/** The sub-command typed by its name; `/access modal` or `/access request` are requests like any word. */
function byName(word: string): CommandName | undefined {
  if (!Object.hasOwn(SUBCOMMANDS, word)) return undefined;
  const kind = word as CommandName;
  return SUBCOMMANDS[kind].invoked === undefined ? kind : undefined;
}

function invoked(how: 'empty' | 'fallback'): CommandName {
  const kind = (Object.keys(SUBCOMMANDS) as CommandName[]).find((k) => SUBCOMMANDS[k].invoked === how);
  if (!kind) throw new Error(`the /access registry has no sub-command invoked ${how}`);
  return kind;
}
