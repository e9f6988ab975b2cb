import { sendToBot } from '../../dev/slack/requests.js';
import type { SocketModeStandin } from '../../dev/slack/socket-mode.js';

/** How Slack reaches the bot under test: signed HTTP requests, or envelopes over Socket Mode. */
export type SlackTransport = 'http' | 'socket';

/** Both, for `describe.each(TRANSPORTS)`. */
export const TRANSPORTS: readonly SlackTransport[] = ['http', 'socket'];

/** What a delivery got back: the status (200 once acknowledged) and the ack's body. */
export interface Delivered {
  status: number;
  /** The ack's body as text ('' for an empty ack). */
  text: string;
  /** The ack's body as JSON, or null for an empty ack. */
  json: unknown;
}

/** Which kind of body it is: form-encoded command, form-encoded `payload=` interaction, JSON event. */
export type DeliveryKind = 'command' | 'interaction' | 'event';

/**
 * Delivers a body built by dev/slack/requests.ts to the bot the way the transport does: over HTTP
 * signed with the secret (the body as is), or over Socket Mode as the payload of an envelope
 * (`slash_commands`, `interactive`, `events_api`), acknowledged by envelope id.
 */
export interface SlackDriver {
  transport: SlackTransport;
  deliver(kind: DeliveryKind, body: string, headers?: Record<string, string>): Promise<Delivered>;
}

export function httpDriver(baseUrl: string, secret: string): SlackDriver {
  return {
    transport: 'http',
    async deliver(_kind, body, headers) {
      const res = await sendToBot(baseUrl, { body, secret, ...(headers ? { headers } : {}) });
      const text = await res.text();
      return { status: res.status, text, json: parseJson(text) };
    },
  };
}

/** Slack's own status for an envelope nobody acknowledged does not exist; 404 is what Bolt answers over HTTP. */
const UNACKNOWLEDGED = 404;

export function socketDriver(socket: SocketModeStandin): SlackDriver {
  return {
    transport: 'socket',
    async deliver(kind, body, headers) {
      if (headers) throw new Error('HTTP headers (retries, signatures) mean nothing over Socket Mode');
      const form = new URLSearchParams(body);
      const delivery =
        kind === 'command'
          ? await socket.deliver('slash_commands', Object.fromEntries(form))
          : kind === 'interaction'
            ? await socket.deliver(
                'interactive',
                JSON.parse(form.get('payload') ?? '{}') as Record<string, unknown>,
              )
            : await socket.deliver('events_api', JSON.parse(body) as Record<string, unknown>);
      if (!delivery.ack) return { status: UNACKNOWLEDGED, text: '', json: null };
      // A copy sent twice on purpose is handled too before the test goes on (and must change nothing).
      await socket.allAcked(delivery);
      const payload = delivery.ack.payload;
      const empty = !payload || Object.keys(payload).length === 0;
      return { status: 200, text: empty ? '' : JSON.stringify(payload), json: empty ? null : payload };
    },
  };
}

function parseJson(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
