import type { InputBlock, KnownBlock, ModalView, PlainTextOption } from '@slack/types';
import { z } from 'zod';
import type { RequestAsk } from '../../shared/access/request.js';
import type { Verdict } from '../../shared/access/review.js';
import { formatDuration, parseDuration } from '../../shared/duration.js';
import { isJitgateError } from '../../shared/errors.js';
import { type GrantId, GrantIdSchema, type RequestId, RequestIdSchema } from '../../shared/ids.js';
import { messageOf } from '../../shared/messages.js';
import { checkDuration, checkNote, checkReason, MAX_REASON, resolveRole } from '../../shared/policy/index.js';
import type { Resource } from '../../shared/policy/types.js';
import { context, plain, section } from './blocks.js';
import { truncate } from './mrkdwn.js';
import { NOTHING_TO_REQUEST } from './replies.js';

/** The request modal's ids: the view submission listener reads `view.state.values[blockId][actionId]`. */
export const REQUEST_MODAL = {
  callbackId: 'jit_request',
  resource: { blockId: 'jit_resource', actionId: 'resource' },
  role: { blockId: 'jit_role', actionId: 'role' },
  duration: { blockId: 'jit_duration', actionId: 'duration' },
  reason: { blockId: 'jit_reason', actionId: 'reason' },
} as const;

/** The deny modal's ids; `private_metadata` is the request id. */
export const DENY_MODAL = {
  callbackId: 'jit_deny_reason',
  reason: { blockId: 'jit_deny_reason', actionId: 'reason' },
} as const;

/** The review modal's ids; `private_metadata` is `<verdict>:<grant id>`. */
export const REVIEW_MODAL = {
  callbackId: 'jit_review_note',
  note: { blockId: 'jit_review_note', actionId: 'note' },
} as const;

/**
 * The `/access` modal: the resources this person may request, a role, a duration and a reason.
 * Role options are `resource/role` (grouped by resource); a blank role or duration means the
 * resource's default. `opts.resource` preselects a resource and narrows the roles to its own.
 */
export function requestModal(resources: readonly Resource[], opts: { resource?: string } = {}): ModalView {
  const base = {
    type: 'modal' as const,
    callback_id: REQUEST_MODAL.callbackId,
    title: plain('Request access'),
  };
  if (resources.length === 0) {
    return {
      ...base,
      close: plain('Close'),
      blocks: [section(NOTHING_TO_REQUEST)],
    };
  }
  const chosen = resources.find((r) => r.name === opts.resource);
  const resourceOptions = resources.slice(0, 100).map(resourceOption);
  const resourceSelect: InputBlock = {
    type: 'input',
    block_id: REQUEST_MODAL.resource.blockId,
    label: plain('Resource'),
    element: {
      type: 'static_select',
      action_id: REQUEST_MODAL.resource.actionId,
      placeholder: plain('Choose a service'),
      options: resourceOptions,
      ...(chosen ? { initial_option: resourceOption(chosen) } : {}),
    },
  };
  const roleSource = chosen ? [chosen] : resources;
  const roleSelect: InputBlock = {
    type: 'input',
    block_id: REQUEST_MODAL.role.blockId,
    optional: true,
    label: plain('Role'),
    hint: plain("Leave blank for the resource's default role (the first one listed)."),
    element:
      roleSource.length === 1
        ? {
            type: 'static_select',
            action_id: REQUEST_MODAL.role.actionId,
            placeholder: plain('Default role'),
            options: roleOptions(roleSource[0]!),
          }
        : {
            type: 'static_select',
            action_id: REQUEST_MODAL.role.actionId,
            placeholder: plain('Default role'),
            option_groups: roleSource
              .slice(0, 100)
              .map((r) => ({ label: plain(truncate(r.name, 75)), options: roleOptions(r) })),
          },
  };
  const example = chosen ?? resources[0]!;
  const durationInput: InputBlock = {
    type: 'input',
    block_id: REQUEST_MODAL.duration.blockId,
    optional: true,
    label: plain('Duration'),
    hint: plain(truncate(`Like 30m, 2h or 1h30m. Blank: the default. ${limits(roleSource)}`, 2000)),
    element: {
      type: 'plain_text_input',
      action_id: REQUEST_MODAL.duration.actionId,
      placeholder: plain(
        `e.g. ${formatDuration(example.defaultDurationMs)} (max ${formatDuration(example.maxDurationMs)})`,
      ),
      max_length: 20,
    },
  };
  const reasonInput: InputBlock = {
    type: 'input',
    block_id: REQUEST_MODAL.reason.blockId,
    label: plain('Reason'),
    element: {
      type: 'plain_text_input',
      action_id: REQUEST_MODAL.reason.actionId,
      multiline: true,
      max_length: MAX_REASON,
      placeholder: plain('e.g. INC-123 checking dashboards'),
    },
  };
  const blocks: KnownBlock[] = [resourceSelect, roleSelect, durationInput, reasonInput];
  blocks.push(
    context('The approvers of the resource are asked in its approval channel; you get a DM with the link.'),
  );
  return { ...base, submit: plain('Request'), close: plain('Cancel'), blocks };
}

/** The optional reason an approver gives when denying; `private_metadata` carries the request id. */
export function denyModal(requestId: RequestId | string): ModalView {
  return {
    type: 'modal',
    callback_id: DENY_MODAL.callbackId,
    private_metadata: requestId,
    title: plain('Deny request'),
    submit: plain('Deny'),
    close: plain('Back'),
    blocks: [
      {
        type: 'input',
        block_id: DENY_MODAL.reason.blockId,
        optional: true,
        label: plain('Reason (the requester sees it)'),
        element: {
          type: 'plain_text_input',
          action_id: DENY_MODAL.reason.actionId,
          multiline: true,
          max_length: MAX_REASON,
          placeholder: plain('e.g. use the read-only role for this'),
        },
      },
    ],
  };
}

/** Justified or Flag on a break-glass grant: an optional note, then the review is recorded. */
export function reviewModal(grantId: GrantId | string, verdict: Verdict): ModalView {
  const flag = verdict === 'flagged';
  return {
    type: 'modal',
    callback_id: REVIEW_MODAL.callbackId,
    private_metadata: `${verdict}:${grantId}`,
    title: plain(flag ? 'Flag break-glass' : 'Break-glass justified'),
    submit: plain(flag ? 'Flag' : 'Justified'),
    close: plain('Back'),
    blocks: [
      {
        type: 'input',
        block_id: REVIEW_MODAL.note.blockId,
        optional: true,
        label: plain(
          flag ? 'What is wrong with it (recorded in the audit log)' : 'Note (recorded in the audit log)',
        ),
        element: {
          type: 'plain_text_input',
          action_id: REVIEW_MODAL.note.actionId,
          multiline: true,
          max_length: MAX_REASON,
          placeholder: plain(
            flag ? 'e.g. no incident on record; asked the holder' : 'e.g. INC-42, checked the session',
          ),
        },
      },
    ],
  };
}

export function parseReviewModal(
  values: unknown,
  privateMetadata: string | undefined,
): ModalParse<{ grantId: GrantId; verdict: Verdict; note: string }> {
  const blockId = REVIEW_MODAL.note.blockId;
  const [verdict, id] = (privateMetadata ?? '').split(':');
  const grantId = GrantIdSchema.safeParse(id ?? '');
  if ((verdict !== 'justified' && verdict !== 'flagged') || !grantId.success)
    return {
      ok: false,
      errors: { [blockId]: 'This form lost track of its grant; close it and click the button again.' },
    };
  const state = StateValues.safeParse(values);
  if (!state.success)
    return {
      ok: false,
      errors: { [blockId]: 'This form could not be read; close it and click the button again.' },
    };
  const errors: Record<string, string> = {};
  const note = byRule(errors, blockId, () => checkNote(read(state.data, REVIEW_MODAL.note)));
  if (note === undefined) return { ok: false, errors };
  return { ok: true, input: { grantId: grantId.data, verdict, note } };
}

/** What the request modal yields: the fields of `AccessService.request` that the person typed. */
/** What the request form gives: a request as typed on the command line, without break-glass. */
export type RequestModalInput = Omit<RequestAsk, 'breakGlass'>;

/** Either the typed input or, for `response_action: 'errors'`, a message per block id. */
export type ModalParse<T> = { ok: true; input: T } | { ok: false; errors: Record<string, string> };

/** `view.state.values` as Slack sends it; only the parts jitgate reads. */
const StateValues = z.record(
  z.string(),
  z.record(
    z.string(),
    z.looseObject({
      value: z.string().nullish(),
      selected_option: z.looseObject({ value: z.string() }).nullish(),
    }),
  ),
);
type StateValues = z.infer<typeof StateValues>;

function read(values: StateValues, ids: { blockId: string; actionId: string }): string | undefined {
  const v = values[ids.blockId]?.[ids.actionId];
  const raw = v?.selected_option?.value ?? v?.value ?? undefined;
  const trimmed = raw?.trim();
  return trimmed ? trimmed : undefined;
}

/**
 * Validates a request modal submission with the shared request rules (shared/policy/rules.ts), so
 * each field's error is the message `/access` would give. With `resources` (those the person may
 * request) it also checks that the resource is one of them, that the role belongs to it and the
 * duration fits.
 *
 * @example
 *   const parsed = parseRequestModal(view.state.values, resources);
 *   if (!parsed.ok) return ack({ response_action: 'errors', errors: parsed.errors });
 */
export function parseRequestModal(
  values: unknown,
  resources?: readonly Resource[],
): ModalParse<RequestModalInput> {
  const state = StateValues.safeParse(values);
  if (!state.success)
    return {
      ok: false,
      errors: {
        [REQUEST_MODAL.resource.blockId]: 'This form could not be read; open it again with /access.',
      },
    };
  const errors: Record<string, string> = {};
  const resourceName = read(state.data, REQUEST_MODAL.resource);
  const resource = resourceName ? resources?.find((r) => r.name === resourceName) : undefined;
  if (!resourceName) errors[REQUEST_MODAL.resource.blockId] = 'Choose a resource.';
  else if (resources && !resource)
    errors[REQUEST_MODAL.resource.blockId] = messageOf('not_allowed_to_request', { resource: resourceName });

  let role: string | undefined;
  const roleValue = read(state.data, REQUEST_MODAL.role);
  if (roleValue) {
    const slash = roleValue.indexOf('/');
    const [roleResource, roleName] =
      slash >= 0 ? [roleValue.slice(0, slash), roleValue.slice(slash + 1)] : [resourceName, roleValue];
    if (resourceName && roleResource !== resourceName) {
      errors[REQUEST_MODAL.role.blockId] =
        `${roleName} is a role of ${roleResource}, not of ${resourceName}; pick one of ${resourceName}'s roles or leave it blank.`;
    } else {
      role = byRule(errors, REQUEST_MODAL.role.blockId, () => {
        if (resource) resolveRole(resource, roleName);
        return roleName;
      });
    }
  }

  // The same rules as the one-line command and the use case, so the messages are the same too.
  const durationText = read(state.data, REQUEST_MODAL.duration);
  const durationMs =
    durationText === undefined
      ? undefined
      : byRule(errors, REQUEST_MODAL.duration.blockId, () => {
          const ms = parseDuration(durationText);
          return resource ? checkDuration(resource, ms) : ms;
        });
  const reason = byRule(errors, REQUEST_MODAL.reason.blockId, () =>
    checkReason(read(state.data, REQUEST_MODAL.reason) ?? ''),
  );

  if (Object.keys(errors).length > 0 || !resourceName || !reason) return { ok: false, errors };
  return { ok: true, input: { resource: resourceName, role, durationMs, reason } };
}

/** Validates a deny modal submission: the request id from `private_metadata` and the optional reason. */
export function parseDenyModal(
  values: unknown,
  privateMetadata: string | undefined,
): ModalParse<{ requestId: RequestId; reason: string }> {
  const blockId = DENY_MODAL.reason.blockId;
  const requestId = RequestIdSchema.safeParse(privateMetadata ?? '');
  if (!requestId.success)
    return {
      ok: false,
      errors: { [blockId]: 'This form lost track of its request; close it and click Deny again.' },
    };
  const state = StateValues.safeParse(values);
  if (!state.success)
    return {
      ok: false,
      errors: { [blockId]: 'This form could not be read; close it and click Deny again.' },
    };
  const errors: Record<string, string> = {};
  const reason = byRule(errors, blockId, () => checkNote(read(state.data, DENY_MODAL.reason)));
  if (reason === undefined) return { ok: false, errors };
  return { ok: true, input: { requestId: requestId.data, reason } };
}

/** Runs a shared rule for one block: its value, or undefined with the rule's message beside that block. */
function byRule<T>(errors: Record<string, string>, blockId: string, rule: () => T): T | undefined {
  try {
    return rule();
  } catch (err) {
    if (!isJitgateError(err)) throw err;
    errors[blockId] = err.message;
    return undefined;
  }
}

function resourceOption(resource: Resource): PlainTextOption {
  const text = resource.description ? `${resource.name}: ${resource.description}` : resource.name;
  return { text: plain(truncate(text, 75)), value: resource.name };
}

function roleOptions(resource: Resource): PlainTextOption[] {
  return resource.roles.slice(0, 100).map((role, i) => ({
    text: plain(truncate(`${resource.name}/${role.name}${i === 0 ? ' (default)' : ''}`, 75)),
    value: `${resource.name}/${role.name}`,
  }));
}

function limits(resources: readonly Resource[]): string {
  return `Max: ${resources.map((r) => `${r.name} ${formatDuration(r.maxDurationMs)}`).join(', ')}.`;
}
