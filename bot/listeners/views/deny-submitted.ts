import type { AllMiddlewareArgs, SlackViewMiddlewareArgs } from '@slack/bolt';
import type { BotDeps } from '../../deps.js';
import { parseDenyModal } from '../../views/modals.js';
import { deniedReply } from '../../views/replies.js';
import { announceDenied } from '../announce.js';
import { publishHomes } from '../home.js';
import { firstDelivery } from '../once.js';
import { tellActor } from '../reply.js';
import { ViewBody } from '../slack-input.js';

/** The deny form (`jit_deny_reason`): denies the request, updates its message and tells the requester. */
export function denySubmitted(deps: BotDeps) {
  return async ({ ack, body, context }: SlackViewMiddlewareArgs & AllMiddlewareArgs): Promise<void> => {
    const parsedBody = ViewBody.safeParse(body);
    if (!parsedBody.success) {
      await ack();
      return;
    }
    const { view, user } = parsedBody.data;
    const form = parseDenyModal(view.state.values, view.private_metadata);
    if (!form.ok) {
      await ack({ response_action: 'errors', errors: form.errors });
      return;
    }
    await ack();
    if (!(await firstDelivery(deps, body, context))) return;
    const { request } = await deps.access.deny(form.input.requestId, user.id, form.input.reason);
    const { missed } = await announceDenied(deps, request);
    await tellActor(deps, body)(deniedReply(request) + missed);
    await publishHomes(deps, [request.requester, user.id]);
  };
}
