import { createHmac, randomBytes, randomInt } from 'node:crypto';

/**
 * Requests as Slack sends them to the bot: raw bodies (form-encoded for commands and interactions,
 * JSON for the Events API) and the signature headers over them.
 */

export const TEST_TEAM_ID = 'T0TEAM';
export const TEST_TEAM_DOMAIN = 'jitgate-test';
export const TEST_APP_ID = 'A0JITGATE';
/** The deprecated verification token Slack still puts in every payload; the bot must not rely on it. */
export const TEST_VERIFICATION_TOKEN = 'verification-token-unused';
/** A response URL that can never be reached (`.invalid` never resolves); pass `standin.responseUrl(id)` to record. */
const NOWHERE = 'https://hooks.slack.com.invalid';

export interface SlackSignatureHeaders {
  'x-slack-signature': string;
  'x-slack-request-timestamp': string;
  'content-type': string;
}

function nowSec(): number {
  return Math.floor(Date.now() / 1000);
}

/** What Slack sends a body as: JSON for Events API deliveries (a JSON object), else a form. */
function contentTypeOf(rawBody: string): string {
  return rawBody.trimStart().startsWith('{') ? 'application/json' : 'application/x-www-form-urlencoded';
}

/**
 * Slack's v0 signature: hex HMAC-SHA256 of `v0:<timestamp>:<raw body>` keyed with the signing secret,
 * with the timestamp and content type Slack sends beside it (form-encoded for commands and
 * interactions; `application/json` for an Events API body such as `appHomeOpenedBody`).
 *
 * @example
 * const body = slashCommandBody({ text: 'list', userId: 'U0CAROL' });
 * await fetch(`${bot}/slack/events`, { method: 'POST', headers: signSlackRequest(secret, body), body });
 */
export function signSlackRequest(
  secret: string,
  rawBody: string,
  timestampSec = nowSec(),
): SlackSignatureHeaders {
  const digest = createHmac('sha256', secret).update(`v0:${timestampSec}:${rawBody}`).digest('hex');
  return {
    'x-slack-signature': `v0=${digest}`,
    'x-slack-request-timestamp': String(timestampSec),
    'content-type': contentTypeOf(rawBody),
  };
}

/** The headers of Slack's n-th retry of a delivery. */
export function slackRetryHeaders(n: number, reason = 'http_timeout'): Record<string, string> {
  return { 'x-slack-retry-num': String(n), 'x-slack-retry-reason': reason };
}

/** A trigger id shaped like Slack's (`<digits>.<digits>.<hex>`), unique per call. */
export function triggerId(): string {
  return `${randomInt(1e9, 1e10)}.${randomInt(1e9, 1e10)}.${randomBytes(16).toString('hex')}`;
}

/** A Slack timestamp (`seconds.micros`) for now. */
function slackTs(): string {
  const ms = Date.now();
  return `${Math.floor(ms / 1000)}.${String((ms % 1000) * 1000 + randomInt(1000)).padStart(6, '0')}`;
}

export interface SlashCommandInput {
  text: string;
  userId: string;
  command?: string;
  userName?: string;
  teamId?: string;
  channelId?: string;
  channelName?: string;
  triggerId?: string;
  /** Where `respond()` posts; `standin.responseUrl(id)` records it. Default: an address that never resolves. */
  responseUrl?: string;
}

/** The form-encoded body of a slash command, with every field Slack sends. */
export function slashCommandBody(input: SlashCommandInput): string {
  const teamId = input.teamId ?? TEST_TEAM_ID;
  const channelId = input.channelId ?? 'C0GENERAL';
  return new URLSearchParams({
    token: TEST_VERIFICATION_TOKEN,
    team_id: teamId,
    team_domain: TEST_TEAM_DOMAIN,
    channel_id: channelId,
    channel_name: input.channelName ?? (channelId.startsWith('D') ? 'directmessage' : 'general'),
    user_id: input.userId,
    user_name: input.userName ?? input.userId.toLowerCase(),
    command: input.command ?? '/access',
    text: input.text,
    api_app_id: TEST_APP_ID,
    is_enterprise_install: 'false',
    response_url:
      input.responseUrl ??
      `${NOWHERE}/commands/${teamId}/${randomInt(1e9)}/${randomBytes(12).toString('hex')}`,
    trigger_id: input.triggerId ?? triggerId(),
  }).toString();
}

/** The view a button sits in when it is not in a message: App Home (the default) or a modal. */
export interface BlockActionView {
  id: string;
  type?: 'home' | 'modal';
  callbackId?: string;
  privateMetadata?: string;
}

export interface BlockActionInput {
  userId: string;
  actionId: string;
  value: string;
  /** The channel id of the clicked message; defaults to C0APPROVALS when `messageTs` is given. */
  channel?: string;
  /** The clicked message's ts: the action comes from a message (channel or DM). */
  messageTs?: string;
  /** The clicked message's blocks and text, for handlers that read them. */
  messageBlocks?: unknown[];
  messageText?: string;
  /** The view (or its id) the button is in, when it is not in a message. */
  view?: string | BlockActionView;
  blockId?: string;
  userName?: string;
  teamId?: string;
  triggerId?: string;
  /** Where `respond()` posts; `standin.responseUrl(id)` records it. Default: an address that never resolves. */
  responseUrl?: string;
}

function payloadUser(userId: string, teamId: string, userName?: string) {
  const name = userName ?? userId.toLowerCase();
  return { id: userId, username: name, name, team_id: teamId };
}

/** The form-encoded body (`payload=<JSON>`) of a button click: a `block_actions` interaction. */
export function blockActionsBody(input: BlockActionInput): string {
  const teamId = input.teamId ?? TEST_TEAM_ID;
  const channelId = input.channel ?? (input.messageTs ? 'C0APPROVALS' : undefined);
  const view = typeof input.view === 'string' ? { id: input.view } : input.view;
  const inView = view !== undefined && input.messageTs === undefined;
  const container = inView
    ? { type: 'view', view_id: view.id }
    : { type: 'message', message_ts: input.messageTs, channel_id: channelId, is_ephemeral: false };
  const payload = {
    type: 'block_actions',
    user: payloadUser(input.userId, teamId, input.userName),
    api_app_id: TEST_APP_ID,
    token: TEST_VERIFICATION_TOKEN,
    container,
    trigger_id: input.triggerId ?? triggerId(),
    team: { id: teamId, domain: TEST_TEAM_DOMAIN },
    enterprise: null,
    is_enterprise_install: false,
    ...(channelId
      ? { channel: { id: channelId, name: channelId.startsWith('D') ? 'directmessage' : 'approvals' } }
      : {}),
    ...(input.messageTs
      ? {
          message: {
            type: 'message',
            subtype: 'bot_message',
            text: input.messageText ?? '',
            user: 'U0JITGATE',
            bot_id: 'B0JITGATE',
            ts: input.messageTs,
            blocks: input.messageBlocks ?? [],
          },
        }
      : {}),
    ...(inView
      ? {
          view: {
            id: view.id,
            type: view.type ?? 'home',
            team_id: teamId,
            callback_id: view.callbackId ?? '',
            private_metadata: view.privateMetadata ?? '',
            state: { values: {} },
            app_id: TEST_APP_ID,
            bot_id: 'B0JITGATE',
          },
        }
      : {}),
    state: { values: {} },
    // Slack gives a response_url for clicks in messages, not for clicks in views.
    ...(!inView || input.responseUrl
      ? { response_url: input.responseUrl ?? `${NOWHERE}/actions/${teamId}/${randomInt(1e9)}/x` }
      : {}),
    actions: [
      {
        action_id: input.actionId,
        block_id: input.blockId ?? randomBytes(3).toString('base64url'),
        text: { type: 'plain_text', text: input.actionId, emoji: true },
        value: input.value,
        type: 'button',
        action_ts: slackTs(),
      },
    ],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/**
 * A field's value: typed text (`null` when left empty), `{ selected }` for a static select, or a value
 * already shaped as Slack shapes it (`{ type: 'users_select', selected_user: 'U0…' }`).
 */
export type ViewInputValue = string | null | { selected: string } | { type: string; [key: string]: unknown };

export interface ViewSubmissionInput {
  userId: string;
  callbackId: string;
  privateMetadata?: string;
  /** `{ [blockId]: { [actionId]: value } }`, shaped into Slack's `view.state.values`. */
  values: Record<string, Record<string, ViewInputValue>>;
  viewId?: string;
  userName?: string;
  teamId?: string;
  triggerId?: string;
}

function shapeValue(value: ViewInputValue): Record<string, unknown> {
  if (value === null || typeof value === 'string') return { type: 'plain_text_input', value };
  if ('selected' in value && typeof value.selected === 'string') {
    const text = { type: 'plain_text', text: value.selected, emoji: true };
    return { type: 'static_select', selected_option: { text, value: value.selected } };
  }
  return { ...value };
}

/** The form-encoded body of a modal's submission: a `view_submission` interaction. */
export function viewSubmissionBody(input: ViewSubmissionInput): string {
  const teamId = input.teamId ?? TEST_TEAM_ID;
  const viewId = input.viewId ?? `V0${randomBytes(4).toString('hex').toUpperCase()}`;
  const values = Object.fromEntries(
    Object.entries(input.values).map(([blockId, actions]) => [
      blockId,
      Object.fromEntries(Object.entries(actions).map(([actionId, v]) => [actionId, shapeValue(v)])),
    ]),
  );
  const payload = {
    type: 'view_submission',
    team: { id: teamId, domain: TEST_TEAM_DOMAIN },
    user: payloadUser(input.userId, teamId, input.userName),
    api_app_id: TEST_APP_ID,
    token: TEST_VERIFICATION_TOKEN,
    trigger_id: input.triggerId ?? triggerId(),
    view: {
      id: viewId,
      team_id: teamId,
      type: 'modal',
      blocks: [],
      private_metadata: input.privateMetadata ?? '',
      callback_id: input.callbackId,
      state: { values },
      hash: `${nowSec()}.${randomBytes(4).toString('hex')}`,
      title: { type: 'plain_text', text: 'Request access', emoji: true },
      clear_on_close: false,
      notify_on_close: false,
      close: null,
      submit: { type: 'plain_text', text: 'Submit', emoji: true },
      previous_view_id: null,
      root_view_id: viewId,
      app_id: TEST_APP_ID,
      external_id: '',
      app_installed_team_id: teamId,
      bot_id: 'B0JITGATE',
    },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** The JSON body of an Events API delivery: `app_home_opened` on the Home tab. */
export function appHomeOpenedBody(input: { userId: string; teamId?: string; eventId?: string }): string {
  const teamId = input.teamId ?? TEST_TEAM_ID;
  const eventTs = slackTs();
  return JSON.stringify({
    token: TEST_VERIFICATION_TOKEN,
    team_id: teamId,
    api_app_id: TEST_APP_ID,
    event: {
      type: 'app_home_opened',
      user: input.userId,
      channel: `D${input.userId.slice(1)}`,
      tab: 'home',
      event_ts: eventTs,
    },
    type: 'event_callback',
    event_id: input.eventId ?? `Ev${randomBytes(5).toString('hex').toUpperCase()}`,
    event_time: nowSec(),
    authorizations: [
      {
        enterprise_id: null,
        team_id: teamId,
        user_id: 'U0JITGATE',
        is_bot: true,
        is_enterprise_install: false,
      },
    ],
    is_ext_shared_channel: false,
    event_context: `4-${randomBytes(16).toString('base64url')}`,
  });
}

export interface SendToBotInput {
  body: string;
  secret: string;
  /** Default: JSON when the body is a JSON object, else form-encoded. */
  contentType?: string;
  /** Sign with this time instead of now (stale or future requests). */
  timestampSec?: number;
  /** Send this signature instead of a correct one. */
  signature?: string;
  /** Extra headers, applied last (e.g. `slackRetryHeaders(1)`). */
  headers?: Record<string, string>;
}

/**
 * POSTs a body to the bot the way Slack does: to `<url>/slack/events` (or to `url` itself when it
 * already ends in `/slack/events`), signed unless `signature` is given.
 */
export function sendToBot(url: string, input: SendToBotInput): Promise<Response> {
  const signed = signSlackRequest(input.secret, input.body, input.timestampSec ?? nowSec());
  const base = url.replace(/\/+$/, '');
  return fetch(base.endsWith('/slack/events') ? base : `${base}/slack/events`, {
    method: 'POST',
    headers: {
      'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
      ...signed,
      ...(input.contentType !== undefined ? { 'content-type': input.contentType } : {}),
      ...(input.signature !== undefined ? { 'x-slack-signature': input.signature } : {}),
      ...input.headers,
    },
    body: input.body,
  });
}
