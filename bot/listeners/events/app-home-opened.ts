import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import type { BotDeps } from '../../deps.js';
import { firstDelivery } from '../once.js';
import { HomeOpenedEvent } from '../slack-input.js';

/** Opening the App Home tab publishes it fresh: grants, pending requests, what waits for a decision. */
export function appHomeOpened(deps: BotDeps) {
  return async ({
    event,
    body,
    context,
  }: SlackEventMiddlewareArgs<'app_home_opened'> & AllMiddlewareArgs): Promise<void> => {
    const parsed = HomeOpenedEvent.safeParse(event);
    if (!parsed.success || parsed.data.tab !== 'home') return;
    // Slack retries an event it thinks went unanswered (x-slack-retry-num); once is enough.
    if (!(await firstDelivery(deps, body, context))) return;
    await deps.homes.publishNow(parsed.data.user);
  };
}
