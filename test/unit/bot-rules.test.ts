import { describe, expect, it } from 'vitest';
import { isCommandError, parseAccessCommand } from '../../bot/commands/parse.js';
import { DENY_MODAL, parseDenyModal, parseRequestModal, REQUEST_MODAL } from '../../bot/views/modals.js';
import { isJitgateError } from '../../shared/errors.js';
import { checkDuration, MAX_REASON, resolveRole } from '../../shared/policy/index.js';
import { grafana } from './bot-views-fixtures.js';

/** `view.state.values` as Slack sends it for the request modal. */
function form(v: { resource?: string; role?: string; duration?: string; reason?: string }) {
  const { resource, role, duration, reason } = REQUEST_MODAL;
  const select = (value?: string) => ({ selected_option: value ? { value } : null });
  const input = (value?: string) => ({ value: value ?? null });
  return {
    [resource.blockId]: { [resource.actionId]: select(v.resource ?? 'grafana') },
    [role.blockId]: { [role.actionId]: select(v.role) },
    [duration.blockId]: { [duration.actionId]: input(v.duration) },
    [reason.blockId]: { [reason.actionId]: input(v.reason ?? 'INC-1') },
  };
}

function commandError(text: string): string {
  const parsed = parseAccessCommand(text);
  if (!isCommandError(parsed)) throw new Error(`expected ${text} to be refused`);
  return parsed.error;
}

function modalError(values: ReturnType<typeof form>, blockId: string): string | undefined {
  const parsed = parseRequestModal(values, [grafana]);
  return parsed.ok ? undefined : parsed.errors[blockId];
}

/** What the use case (the command's path after the parser) says when a rule of the policy refuses. */
function ruleError(rule: () => unknown): string {
  try {
    rule();
  } catch (err) {
    if (isJitgateError(err)) return err.message;
  }
  throw new Error('expected the rule to refuse');
}

describe('the command and the form follow the same rules, in the same words', () => {
  const long = 'x'.repeat(MAX_REASON + 1);

  it.each([
    [
      'a duration that is not one',
      'grafana soon INC-1',
      { duration: 'soon' },
      REQUEST_MODAL.duration.blockId,
    ],
    ['a zero duration', 'grafana 0m INC-1', { duration: '0m' }, REQUEST_MODAL.duration.blockId],
    ['no reason', 'grafana 2h', { duration: '2h', reason: '   ' }, REQUEST_MODAL.reason.blockId],
    [
      'a reason too long',
      `grafana 2h ${long}`,
      { duration: '2h', reason: long },
      REQUEST_MODAL.reason.blockId,
    ],
  ])(
    'when the input has %s, then the parser and the form give the same message',
    (_, text, fields, blockId) => {
      const fromCommand = commandError(text);
      expect(fromCommand.length).toBeGreaterThan(0);
      expect(modalError(form(fields), blockId)).toBe(fromCommand);
    },
  );

  it('when the duration is over the maximum, then the form says what the use case says to the command', () => {
    const parsed = parseAccessCommand('grafana 5h INC-1');
    if (isCommandError(parsed) || parsed.kind !== 'request') throw new Error('expected a request');
    const fromCommand = ruleError(() => checkDuration(grafana, parsed.durationMs));
    expect(fromCommand).toContain('grafana allows at most 4h');
    expect(modalError(form({ duration: '5h' }), REQUEST_MODAL.duration.blockId)).toBe(fromCommand);
  });

  it('when the role is not one of the resource, then the form says what the use case says to the command', () => {
    const parsed = parseAccessCommand('grafana/admin 1h INC-1');
    if (isCommandError(parsed) || parsed.kind !== 'request') throw new Error('expected a request');
    const fromCommand = ruleError(() => resolveRole(grafana, parsed.role));
    expect(fromCommand).toContain('grafana has no role "admin"');
    expect(modalError(form({ role: 'grafana/admin' }), REQUEST_MODAL.role.blockId)).toBe(fromCommand);
  });

  it('when a revoke or extend note is too long, then the command refuses it like the deny form does', () => {
    const grant = 'g_abcdefghijklmnopqrstuvwxyz';
    const fromCommand = commandError(`revoke ${grant} ${long}`);
    expect(fromCommand).toMatch(/too long/);
    expect(commandError(`extend ${grant} 1h ${long}`)).toBe(fromCommand);
    const { blockId, actionId } = DENY_MODAL.reason;
    const denied = parseDenyModal(
      { [blockId]: { [actionId]: { value: long } } },
      'r_aaaaaaaaaaaaaaaaaaaaaaaaaa',
    );
    expect(denied.ok || Object.values(denied.errors)).toEqual([fromCommand]);
  });

  it('when the reason is exactly the longest allowed, then both accept it', () => {
    const longest = 'y'.repeat(MAX_REASON);
    expect(parseAccessCommand(`grafana 2h ${longest}`)).toMatchObject({ kind: 'request', reason: longest });
    expect(parseRequestModal(form({ duration: '2h', reason: longest }), [grafana])).toMatchObject({
      ok: true,
      input: { reason: longest },
    });
  });
});
