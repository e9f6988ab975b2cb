import type { InputBlock, StaticSelect } from '@slack/types';
import { describe, expect, it } from 'vitest';
import { helpText, USAGE } from '../../bot/commands/registry.js';
import {
  DENY_MODAL,
  denyModal,
  parseDenyModal,
  parseRequestModal,
  REQUEST_MODAL,
  requestModal,
} from '../../bot/views/modals.js';
import { escapeText } from '../../bot/views/mrkdwn.js';
import { errorReply, listReply, resourcesReply } from '../../bot/views/replies.js';
import { JitgateError } from '../../shared/errors.js';
import type { Resource } from '../../shared/policy/types.js';
import { grafana, pending } from './bot-views-fixtures.js';

const kibana: Resource = {
  ...grafana,
  name: 'kibana',
  description: 'Logs',
  maxDurationMs: 8 * 3_600_000,
  approvalsRequired: 1,
  breakGlass: false,
  roles: [{ name: 'access', methods: ['*'], paths: ['/**'] }],
};

/** `view.state.values` as Slack sends it for the request modal. */
function submitted(v: { resource?: string; role?: string; duration?: string; reason?: string }) {
  const { resource, role, duration, reason } = REQUEST_MODAL;
  const select = (value?: string) => ({
    type: 'static_select',
    selected_option: value ? { text: { type: 'plain_text', text: value }, value } : null,
  });
  const input = (value?: string) => ({ type: 'plain_text_input', value: value ?? null });
  return {
    [resource.blockId]: { [resource.actionId]: select(v.resource) },
    [role.blockId]: { [role.actionId]: select(v.role) },
    [duration.blockId]: { [duration.actionId]: input(v.duration) },
    [reason.blockId]: { [reason.actionId]: input(v.reason) },
  };
}

function input(view: { blocks: unknown[] }, blockId: string): InputBlock {
  return view.blocks.find((b) => (b as InputBlock).block_id === blockId) as InputBlock;
}

describe('requestModal', () => {
  it('when built, then it offers only the given resources, their roles as resource/role, and the limits', () => {
    const view = requestModal([grafana, kibana]);
    expect(view.callback_id).toBe('jit_request');
    const resourceSelect = input(view, REQUEST_MODAL.resource.blockId).element as StaticSelect;
    expect(resourceSelect.options?.map((o) => [o.value, o.text.text])).toEqual([
      ['grafana', 'grafana: Production Grafana'],
      ['kibana', 'kibana: Logs'],
    ]);
    const roleSelect = input(view, REQUEST_MODAL.role.blockId).element as StaticSelect;
    expect(roleSelect.option_groups?.flatMap((g) => g.options.map((o) => o.value))).toEqual([
      'grafana/viewer',
      'grafana/editor',
      'kibana/access',
    ]);
    const duration = input(view, REQUEST_MODAL.duration.blockId).element as {
      placeholder?: { text: string };
    };
    expect(duration.placeholder?.text).toBe('e.g. 1h (max 4h)');
  });

  it('when a resource is chosen, then it is preselected and only its roles are offered', () => {
    const view = requestModal([grafana, kibana], { resource: 'kibana' });
    const resourceSelect = input(view, REQUEST_MODAL.resource.blockId).element as StaticSelect;
    expect(resourceSelect.initial_option?.value).toBe('kibana');
    const roleSelect = input(view, REQUEST_MODAL.role.blockId).element as StaticSelect;
    expect(roleSelect.options?.map((o) => o.value)).toEqual(['kibana/access']);
  });

  it('when nothing may be requested, then the modal says so and has no submit', () => {
    const view = requestModal([]);
    expect(view.submit).toBeUndefined();
    expect(JSON.stringify(view.blocks)).toContain('nothing you may request');
  });
});

describe('parseRequestModal', () => {
  it('when the input is good, then it yields the typed request', () => {
    const parsed = parseRequestModal(
      submitted({
        resource: 'grafana',
        role: 'grafana/editor',
        duration: '1h30m',
        reason: '  INC-9\n  fix  ',
      }),
      [grafana, kibana],
    );
    expect(parsed).toEqual({
      ok: true,
      input: { resource: 'grafana', role: 'editor', durationMs: 5_400_000, reason: 'INC-9 fix' },
    });
  });

  it('when role and duration are blank, then the defaults apply (undefined)', () => {
    const parsed = parseRequestModal(submitted({ resource: 'kibana', reason: 'logs' }), [grafana, kibana]);
    expect(parsed).toEqual({
      ok: true,
      input: { resource: 'kibana', role: undefined, durationMs: undefined, reason: 'logs' },
    });
  });

  it('when the duration is bad or too long and the reason missing, then each block gets its own error', () => {
    const bad = parseRequestModal(submitted({ resource: 'grafana', duration: 'two hours' }), [grafana]);
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(Object.keys(bad.errors).sort()).toEqual(
      [REQUEST_MODAL.duration.blockId, REQUEST_MODAL.reason.blockId].sort(),
    );
    expect(bad.errors[REQUEST_MODAL.duration.blockId]).toContain('`two hours` is not a duration');
    expect(bad.errors[REQUEST_MODAL.reason.blockId]).toContain('Say why');

    const long = parseRequestModal(submitted({ resource: 'grafana', duration: '5h', reason: 'x' }), [
      grafana,
    ]);
    expect(long).toEqual({
      ok: false,
      errors: {
        [REQUEST_MODAL.duration.blockId]: 'grafana allows at most 4h of access at a time; you asked for 5h.',
      },
    });
  });

  it("when the role belongs to another resource or the resource isn't allowed, then that block says so", () => {
    const mixed = parseRequestModal(submitted({ resource: 'kibana', role: 'grafana/viewer', reason: 'x' }), [
      grafana,
      kibana,
    ]);
    expect(mixed.ok || mixed.errors[REQUEST_MODAL.role.blockId]).toContain(
      'viewer is a role of grafana, not of kibana',
    );
    const notMine = parseRequestModal(submitted({ resource: 'kibana', reason: 'x' }), [grafana]);
    expect(notMine.ok || notMine.errors[REQUEST_MODAL.resource.blockId]).toBe(
      'You may not request kibana; ask its approvers.',
    );
  });

  it('when the payload is not a view state at all, then it is an error, not an exception', () => {
    expect(parseRequestModal('nonsense').ok).toBe(false);
  });
});

describe('denyModal / parseDenyModal', () => {
  const rid = 'r_aaaaaaaaaaaaaaaaaaaaaaaaaa';
  const values = (reason: string | null) => ({
    [DENY_MODAL.reason.blockId]: {
      [DENY_MODAL.reason.actionId]: { type: 'plain_text_input', value: reason },
    },
  });

  it('when denying, then the request id rides in private_metadata and the reason is optional', () => {
    const view = denyModal(rid);
    expect(view.callback_id).toBe('jit_deny_reason');
    expect(view.private_metadata).toBe(rid);
    expect(parseDenyModal(values(' too broad '), view.private_metadata)).toEqual({
      ok: true,
      input: { requestId: rid, reason: 'too broad' },
    });
    expect(parseDenyModal(values(null), rid)).toEqual({ ok: true, input: { requestId: rid, reason: '' } });
  });

  it('when private_metadata is not a request id, then the reason block reports it', () => {
    const parsed = parseDenyModal(values('x'), 'r_../../etc');
    expect(parsed.ok).toBe(false);
    expect(parsed.ok || parsed.errors[DENY_MODAL.reason.blockId]).toContain('lost track');
  });
});

describe('replies', () => {
  it('help lists every /access form with examples', () => {
    const help = helpText();
    for (const form of Object.values(USAGE)) expect(help).toContain(`\`${escapeText(form)}\``);
    expect(help).toContain('/access grafana/viewer 2h INC-123');
  });

  it('errors: a JitgateError shows its message and the right form; anything else says nothing changed', () => {
    const tooLong = errorReply(new JitgateError('duration_too_long', 'grafana allows at most 4h.'));
    expect(tooLong).toContain('grafana allows at most 4h.');
    expect(tooLong).toContain(escapeText(USAGE.request));
    expect(errorReply(new JitgateError('duration_invalid', 'bad'), USAGE.extend)).toContain(
      escapeText(USAGE.extend),
    );
    expect(errorReply(new JitgateError('no_such_grant', 'There is no grant g_x.'))).toContain('/access list');
    const boom = errorReply(new Error('ECONNRESET at 10.0.0.1'));
    expect(boom).toContain('nothing was changed');
    expect(boom).not.toContain('ECONNRESET');
  });

  it('resources and list show limits, grants and pending requests', () => {
    const res = resourcesReply([grafana]);
    expect(res).toContain('*grafana*: Production Grafana');
    expect(res).toContain('viewer (default), editor');
    expect(res).toContain('default 1h, max 4h · 2 approvals · break-glass allowed');
    expect(listReply({ grants: [], pending: [] }, 0)).toContain('Type `/access` to ask for access.');
    const list = listReply({ grants: [], pending: [pending()] }, 0);
    expect(list).toContain('2h of *grafana/viewer*: approvals 0 of 2');
  });
});
