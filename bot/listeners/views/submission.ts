import type { AllMiddlewareArgs, SlackViewMiddlewareArgs } from '@slack/bolt';
import type { BotDeps } from '../../deps.js';
import type { ModalParse } from '../../views/modals.js';
import { firstDelivery } from '../once.js';
import { type Tell, tellActor } from '../reply.js';
import { ViewBody } from '../slack-input.js';

/** What a form handler gets once the submission is acknowledged, first seen, and its fields checked. */
export interface Submission<T> {
  input: T;
  body: ViewBody;
  tell: Tell;
}

/**
 * Wraps a form's submission handler: an unreadable body is acknowledged and dropped; fields that
 * `parse` refuses go back beside their blocks (`response_action: errors`); otherwise ack, drop a
 * repeated delivery, then run. Errors go on to the app's one error handler.
 */
export function onSubmission<T>(
  deps: BotDeps,
  parse: (view: ViewBody['view']) => ModalParse<T>,
  handle: (submission: Submission<T>) => Promise<void>,
) {
  return async ({ ack, body, context }: SlackViewMiddlewareArgs & AllMiddlewareArgs): Promise<void> => {
    const parsedBody = ViewBody.safeParse(body);
    if (!parsedBody.success) {
      await ack();
      return;
    }
    const form = parse(parsedBody.data.view);
    if (!form.ok) {
      await ack({ response_action: 'errors', errors: form.errors });
      return;
    }
    await ack();
    if (!(await firstDelivery(deps, body, context))) return;
    await handle({ input: form.input, body: parsedBody.data, tell: tellActor(deps, body) });
  };
}
