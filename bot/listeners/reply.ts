import type { BotDeps } from '../deps.js';
import { sendDm } from '../slack/dm.js';
import { RequestModalMetadata } from './slack-input.js';

/**
 * Private answers to the person who acted: to a slash command through its response_url, to a click
 * in a channel as an ephemeral message there, and otherwise (App Home, a modal) as a DM.
 */
export type Tell = (text: string) => Promise<void>;

export function tellActor(deps: BotDeps, body: unknown): Tell {
  const b = (body ?? {}) as Record<string, unknown>;
  const user = userOf(b);
  if (typeof b.command === 'string') {
    const url = typeof b.response_url === 'string' ? b.response_url : undefined;
    const channel = typeof b.channel_id === 'string' ? b.channel_id : undefined;
    return async (text) => {
      if (url) return postToResponseUrl(url, text);
      if (channel && user) await deps.client.chat.postEphemeral({ channel, user, text });
    };
  }
  if (b.type === 'block_actions') {
    const channel = (b.channel as { id?: unknown } | undefined)?.id;
    return async (text) => {
      if (!user) return;
      if (typeof channel === 'string') {
        try {
          await deps.client.chat.postEphemeral({ channel, user, text });
          return;
        } catch (err) {
          deps.log.warn({ err: String(err), channel }, 'ephemeral reply failed; sending it as a DM');
        }
      }
      await sendDm(deps.client, user, text);
    };
  }
  if (b.type === 'view_submission') {
    const view = b.view as { private_metadata?: unknown } | undefined;
    const url = responseUrlIn(view?.private_metadata);
    return async (text) => {
      if (url) return postToResponseUrl(url, text);
      if (user) await sendDm(deps.client, user, text);
    };
  }
  // Events (App Home) have nobody waiting for an answer; what failed is in the log.
  return async () => {};
}

async function postToResponseUrl(url: string, text: string): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text }),
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`response_url answered ${res.status}`);
}

function userOf(b: Record<string, unknown>): string | undefined {
  if (typeof b.user_id === 'string') return b.user_id;
  const u = b.user as { id?: unknown } | undefined;
  return typeof u?.id === 'string' ? u.id : undefined;
}

function responseUrlIn(metadata: unknown): string | undefined {
  if (typeof metadata !== 'string' || metadata === '') return undefined;
  try {
    return RequestModalMetadata.parse(JSON.parse(metadata)).responseUrl;
  } catch {
    return undefined;
  }
}
