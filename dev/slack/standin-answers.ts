/**
 * What the Slack stand-in answers for each Web API method: the fields Slack's real answers carry that
 * the bot reads (a message's `channel` and `ts`, a view's `id`, a user's profile email, …), and the
 * errors Slack gives for the mistakes a caller can make (a missing argument, an unknown user).
 */

export type SlackBody = Record<string, unknown>;

/** A person as users.info describes them; every field has a default derived from the id. */
export interface StandinUser {
  /** Left out: `<id>@example.com`; null: the profile has no e-mail at all (a bot, a guest, no users:read.email). */
  email?: string | null;
  name?: string;
  realName?: string;
  tz?: string;
  deleted?: boolean;
  isBot?: boolean;
}

export interface AnswerState {
  botUserId: string;
  botId: string;
  teamId: string;
  enterpriseId?: string;
  enterpriseInstall: boolean;
  /** users.info for an id not given to `setUser`: Slack's `user_not_found`, or a profile made from the id. */
  unknownUsers: 'user_not_found' | 'derived';
  users: Map<string, StandinUser>;
  usergroups: Map<string, string[]>;
  /** The next message `ts`: unique and increasing within one stand-in, like Slack's. */
  nextTs(): string;
  nextViewId(): string;
}

type Answer = (body: SlackBody, state: AnswerState) => SlackBody;

const TEAM_DOMAIN = 'jitgate-test';
const APP_ID = 'A0JITGATE';

/** The arguments Slack refuses a call without (`invalid_arguments`, naming the field). */
const REQUIRED: Record<string, readonly string[]> = {
  'chat.postMessage': ['channel'],
  'chat.update': ['channel', 'ts'],
  'chat.postEphemeral': ['channel', 'user'],
  'chat.delete': ['channel', 'ts'],
  'views.open': ['trigger_id', 'view'],
  'views.push': ['trigger_id', 'view'],
  'views.update': ['view'],
  'views.publish': ['user_id', 'view'],
  'users.info': ['user'],
  'users.lookupByEmail': ['email'],
  'usergroups.users.list': ['usergroup'],
};

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function missing(field: string): SlackBody {
  return {
    ok: false,
    error: 'invalid_arguments',
    response_metadata: { messages: [`[ERROR] missing required field: ${field}`] },
  };
}

/** The IM between the bot and a user: Slack gives it a `D…` id; the stand-in derives it from the user's. */
export function dmChannelOf(userId: string): string {
  return `D${userId.slice(1)}`;
}

/** Posting to a user id (`U…`/`W…`) posts into the bot's IM with them, and Slack answers with the IM. */
function postedChannel(channel: string): string {
  return /^[UW][A-Z0-9]+$/.test(channel) ? dmChannelOf(channel) : channel;
}

function botMessage(body: SlackBody, state: AnswerState, ts: string): SlackBody {
  return {
    type: 'message',
    subtype: 'bot_message',
    text: body.text ?? '',
    user: state.botUserId,
    bot_id: state.botId,
    app_id: APP_ID,
    team: state.teamId,
    ts,
    ...(body.blocks !== undefined ? { blocks: body.blocks } : {}),
    ...(body.attachments !== undefined ? { attachments: body.attachments } : {}),
    ...(body.thread_ts !== undefined ? { thread_ts: body.thread_ts } : {}),
    ...(body.metadata !== undefined ? { metadata: body.metadata } : {}),
  };
}

function viewAnswer(body: SlackBody, state: AnswerState, id: string): SlackBody {
  const view = (typeof body.view === 'object' && body.view !== null ? body.view : {}) as SlackBody;
  return {
    ok: true,
    view: {
      type: 'modal',
      blocks: [],
      private_metadata: '',
      callback_id: '',
      external_id: '',
      ...view,
      id,
      team_id: state.teamId,
      app_id: APP_ID,
      bot_id: state.botId,
      state: { values: {} },
      hash: `${Math.floor(Date.now() / 1000)}.${id}`,
      root_view_id: id,
      previous_view_id: null,
    },
  };
}

/** The UTC offset Slack reports as `tz_offset` (seconds east of UTC) for an IANA zone, right now. */
function tzOffsetSec(tz: string): number {
  const part = new Intl.DateTimeFormat('en-US', { timeZone: tz, timeZoneName: 'longOffset' })
    .formatToParts(new Date())
    .find((p) => p.type === 'timeZoneName')?.value;
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(part ?? '');
  if (!m) return 0;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 3600 + Number(m[3]) * 60);
}

function userInfo(id: string, state: AnswerState): SlackBody {
  const known = state.users.get(id);
  if (!known && state.unknownUsers === 'user_not_found') return { ok: false, error: 'user_not_found' };
  const u = known ?? {};
  const name = u.name ?? id.toLowerCase();
  const realName = u.realName ?? name;
  const tz = u.tz ?? 'Europe/London';
  return {
    ok: true,
    user: {
      id,
      team_id: state.teamId,
      name,
      real_name: realName,
      deleted: u.deleted ?? false,
      is_bot: u.isBot ?? false,
      is_admin: false,
      tz,
      tz_label: tz,
      tz_offset: tzOffsetSec(tz),
      profile: {
        ...(u.email === null ? {} : { email: u.email ?? `${id.toLowerCase()}@example.com` }),
        real_name: realName,
        display_name: name,
        team: state.teamId,
      },
    },
  };
}

const answers: Record<string, Answer> = {
  'chat.postMessage': (body, state) => {
    if (body.text === undefined && body.blocks === undefined && body.attachments === undefined) {
      return { ok: false, error: 'no_text' };
    }
    const ts = state.nextTs();
    return {
      ok: true,
      channel: postedChannel(String(body.channel)),
      ts,
      message: botMessage(body, state, ts),
    };
  },
  'chat.update': (body, state) => ({
    ok: true,
    channel: body.channel,
    ts: body.ts,
    text: body.text ?? '',
    message: botMessage(body, state, String(body.ts)),
  }),
  'chat.postEphemeral': (_body, state) => ({ ok: true, message_ts: state.nextTs() }),
  'chat.delete': (body) => ({ ok: true, channel: body.channel, ts: body.ts }),
  'views.open': (body, state) => viewAnswer(body, state, state.nextViewId()),
  'views.push': (body, state) => viewAnswer(body, state, state.nextViewId()),
  'views.update': (body, state) => {
    const id = str(body.view_id) ?? (str(body.external_id) ? state.nextViewId() : undefined);
    return id ? viewAnswer(body, state, id) : missing('view_id');
  },
  'views.publish': (body, state) => viewAnswer(body, state, state.nextViewId()),
  'users.info': (body, state) => userInfo(String(body.user), state),
  'users.lookupByEmail': (body, state) => {
    // Only people given to setUser have an address Slack knows (derived profiles are not searchable).
    const wanted = String(body.email).toLowerCase();
    for (const [id, u] of state.users) {
      if (u.email?.toLowerCase() === wanted) return userInfo(id, state);
    }
    return { ok: false, error: 'users_not_found' };
  },
  'usergroups.users.list': (body, state) => {
    const users = state.usergroups.get(String(body.usergroup));
    return users ? { ok: true, users: [...users] } : { ok: false, error: 'no_such_subteam' };
  },
  'conversations.open': (body) => {
    const existing = str(body.channel);
    if (existing) return { ok: true, no_op: true, already_open: true, channel: { id: existing } };
    const users = String(body.users ?? '')
      .split(',')
      .map((u) => u.trim())
      .filter((u) => u !== '');
    const [first] = users;
    if (first === undefined) return { ok: false, error: 'users_list_not_supplied' };
    // One person: the IM; several: a group DM, which Slack names with a G… id.
    const id = users.length === 1 ? dmChannelOf(first) : `G${users.map((u) => u.slice(1)).join('')}`;
    return { ok: true, no_op: false, already_open: false, channel: { id } };
  },
  'auth.test': (_body, state) => ({
    ok: true,
    url: `https://${TEAM_DOMAIN}.slack.com/`,
    team: TEAM_DOMAIN,
    user: 'jitgate',
    team_id: state.teamId,
    ...(state.enterpriseId ? { enterprise_id: state.enterpriseId } : {}),
    user_id: state.botUserId,
    bot_id: state.botId,
    is_enterprise_install: state.enterpriseInstall,
  }),
};

/** Whether the stand-in answers `method` (anything else is `unknown_method`). */
export function knowsMethod(method: string): boolean {
  return Object.hasOwn(answers, method);
}

/** Slack's answer to one Web API call; a method the stand-in does not know gets `unknown_method`. */
export function answerFor(method: string, body: SlackBody, state: AnswerState): SlackBody {
  const answer = knowsMethod(method) ? answers[method] : undefined;
  if (!answer) return { ok: false, error: 'unknown_method', req_method: method };
  const absent = (REQUIRED[method] ?? []).find((field) => body[field] === undefined || body[field] === '');
  return absent ? missing(absent) : answer(body, state);
}
