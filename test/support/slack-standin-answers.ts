/**
 * What the Slack stand-in answers for each Web API method: the fields Slack's real answers carry that
 * the bot reads (a message's `channel` and `ts`, a view's `id`, a user's profile email, …).
 */

export type SlackBody = Record<string, unknown>;

/** A person as users.info describes them; every field has a default derived from the id. */
export interface StandinUser {
  email?: string;
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
  strictUsers: boolean;
  users: Map<string, StandinUser>;
  usergroups: Map<string, string[]>;
  /** The next message `ts`: unique and increasing within one stand-in, like Slack's. */
  nextTs(): string;
  nextViewId(): string;
}

type Answer = (body: SlackBody, state: AnswerState) => SlackBody;

const TEAM_DOMAIN = 'jitgate-test';

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function botMessage(body: SlackBody, state: AnswerState, ts: string): SlackBody {
  return {
    type: 'message',
    subtype: 'bot_message',
    text: body.text ?? '',
    user: state.botUserId,
    bot_id: state.botId,
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
      app_id: 'A0JITGATE',
      bot_id: state.botId,
      state: { values: {} },
      hash: `${Date.now()}.${id}`,
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
  if (!known && state.strictUsers) return { ok: false, error: 'user_not_found' };
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
        email: u.email ?? `${id.toLowerCase()}@example.com`,
        real_name: realName,
        display_name: name,
        team: state.teamId,
      },
    },
  };
}

const answers: Record<string, Answer> = {
  'chat.postMessage': (body, state) => {
    const ts = state.nextTs();
    return { ok: true, channel: body.channel, ts, message: botMessage(body, state, ts) };
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
  'views.update': (body, state) => viewAnswer(body, state, str(body.view_id) ?? state.nextViewId()),
  'views.publish': (body, state) => viewAnswer(body, state, state.nextViewId()),
  'users.info': (body, state) => userInfo(String(body.user ?? ''), state),
  'usergroups.users.list': (body, state) => {
    const users = state.usergroups.get(String(body.usergroup ?? ''));
    return users ? { ok: true, users: [...users] } : { ok: false, error: 'no_such_subteam' };
  },
  'conversations.open': (body) => {
    const first =
      String(body.users ?? body.channel ?? '')
        .split(',')[0]
        ?.trim() ?? '';
    if (first === '') return { ok: false, error: 'users_list_not_supplied' };
    return { ok: true, no_op: false, already_open: false, channel: { id: `D${first.slice(1)}` } };
  },
  'auth.test': (_body, state) => ({
    ok: true,
    url: `https://${TEAM_DOMAIN}.slack.com/`,
    team: TEAM_DOMAIN,
    user: 'jitgate',
    team_id: state.teamId,
    user_id: state.botUserId,
    bot_id: state.botId,
    is_enterprise_install: false,
  }),
};

/** Slack's answer to one Web API call; a method the stand-in does not know gets `unknown_method`. */
export function answerFor(method: string, body: SlackBody, state: AnswerState): SlackBody {
  const answer = answers[method];
  return answer ? answer(body, state) : { ok: false, error: 'unknown_method', req_method: method };
}
