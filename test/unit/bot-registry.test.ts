import { describe, expect, it } from 'vitest';
import { isCommandError, parseAccessCommand } from '../../bot/commands/parse.js';
import { type CommandName, helpText, SUBCOMMANDS, USAGE } from '../../bot/commands/registry.js';
import { escapeText } from '../../bot/views/mrkdwn.js';
import { badInputReply } from '../../bot/views/replies.js';

const names = Object.keys(SUBCOMMANDS) as CommandName[];
const byName = names.filter((name) => SUBCOMMANDS[name].invoked === undefined);

describe('the /access registry', () => {
  it('when help is asked for, then it lists every sub-command with its form and what it does, cancel included', () => {
    const help = helpText();
    for (const name of names) {
      const { syntax, description, variant } = SUBCOMMANDS[name];
      expect(help, name).toContain(`\`${escapeText(syntax)}\`: ${description}`);
      if (variant) expect(help, name).toContain(`\`${escapeText(variant.syntax)}\`: ${variant.description}`);
    }
    expect(help).toContain('`/access cancel &lt;request-id&gt;`');
    expect(help.split('\n').filter((l) => l.startsWith('• '))).toHaveLength(
      names.length + names.filter((n) => SUBCOMMANDS[n].variant).length,
    );
  });

  it('when a sub-command is typed by its name in any case, then it is that sub-command', () => {
    for (const name of byName) {
      const parsed = parseAccessCommand(`${name.toUpperCase()} r_234567abcdefghijklmnopqrst`);
      // Whatever the words make of it, the sub-command named answers: a parse of its kind or its own form.
      if (isCommandError(parsed)) expect(parsed.usage, name).toContain(SUBCOMMANDS[name].syntax);
      else expect(parsed.kind, name).toBe(name);
    }
  });

  it('when /access is typed alone or with words no sub-command is named by, then the form opens or a request is read', () => {
    expect(parseAccessCommand('')).toEqual({ kind: 'modal' });
    expect(parseAccessCommand('modal 1h why')).toMatchObject({ kind: 'request', resource: 'modal' });
  });

  it('when a sub-command refuses its words, then the error shows that sub-command’s form', () => {
    for (const name of ['revoke', 'cancel', 'extend', 'list', 'resources'] as const) {
      const parsed = parseAccessCommand(`${name} ~nonsense~`);
      expect(isCommandError(parsed) && parsed.usage, name).toBe(USAGE[name]);
    }
  });

  it('when the ack refuses bad input, then it quotes what was wrong and the form, escaped for Slack', () => {
    const parsed = parseAccessCommand('cancel 123');
    if (!isCommandError(parsed)) throw new Error('expected a refusal');
    expect(badInputReply(parsed)).toBe(
      ':warning: `123` is not a request id (it looks like r_ followed by 26 letters and digits).\n' +
        'Use `/access cancel &lt;request-id&gt;`. `/access help` shows every form.',
    );
    expect(badInputReply(undefined)).toBe(':warning: jitgate could not read this command; try again.');
  });

  it('when a sub-command is listed, then it has a handler or an answer given in the ack', () => {
    for (const name of names) {
      const sub = SUBCOMMANDS[name];
      const handled = 'handle' in sub ? typeof sub.handle : typeof sub.answerInAck;
      expect(handled, name).toBe('function');
    }
  });
});
