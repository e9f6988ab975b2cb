import type { WebClient } from '@slack/web-api';
import type { SlackMessage } from '../views/actions.js';
import { slackCall } from './slack-errors.js';

/**
 * A direct message from the bot to one person: open (or find) the IM channel, then post into it.
 * Never unfurled: a preview fetched by Slack would spend a one-time link before its owner could.
 * A Slack answer that retrying cannot fix is thrown as a PermanentFailure.
 */
export async function sendDm(client: WebClient, user: string, message: SlackMessage | string): Promise<void> {
  const content = typeof message === 'string' ? { text: message } : message;
  const opened = await slackCall(`opening a DM with ${user}`, () =>
    client.conversations.open({ users: user }),
  );
  const channel = opened.channel?.id;
  if (!channel) throw new Error(`conversations.open answered without a channel for ${user}`);
  await slackCall(`sending a DM to ${user}`, () =>
    client.chat.postMessage({ channel, ...content, unfurl_links: false, unfurl_media: false }),
  );
}
