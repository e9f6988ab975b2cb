import type { AllMiddlewareArgs, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { z } from 'zod';
import { errorFor } from '../../../shared/errors.js';
import type { BotDeps } from '../../deps.js';
import { firstDelivery } from '../once.js';
import { type Tell, tellActor } from '../reply.js';
import { ButtonBody } from '../slack-input.js';

export type ButtonArgs = SlackActionMiddlewareArgs & AllMiddlewareArgs;

/** What a button handler gets once the click is acknowledged, first seen, and its value checked. */
export interface Click<T> {
  body: ButtonBody;
  user: ButtonBody['user']['id'];
  value: T;
  tell: Tell;
}

/**
 * Wraps a button handler: ack at once, drop a repeated delivery, check the payload and the button's
 * value with `schema`, then run. Errors go on to the app's one error handler.
 */
export function onButton<S extends z.ZodType>(
  deps: BotDeps,
  schema: S,
  handle: (click: Click<z.output<S>>) => Promise<void>,
  options: { dedupe?: boolean } = {},
) {
  return async ({ ack, body, context }: ButtonArgs): Promise<void> => {
    await ack();
    if (options.dedupe !== false && !(await firstDelivery(deps, body, context))) return;
    const parsed = ButtonBody.safeParse(body);
    if (!parsed.success) throw errorFor('input_invalid', { problem: 'unreadable', what: 'click' });
    const [action] = parsed.data.actions;
    const value = schema.safeParse(action?.value);
    if (!value.success) throw errorFor('input_invalid', { problem: 'stale_button' });
    await handle({
      body: parsed.data,
      user: parsed.data.user.id,
      value: value.data,
      tell: tellActor(deps, body),
    });
  };
}
