import type { WebClient } from '@slack/web-api';
import type { Logger } from '../../shared/log.js';

/** The Slack workspace (or Enterprise Grid organization) the bot token belongs to, from `auth.test`. */
export interface Workspace {
  teamId: string;
  /** Set for a workspace inside an Enterprise Grid organization, and for an org-wide install. */
  enterpriseId?: string | undefined;
  /** Installed across the whole organization: any of its workspaces is ours. */
  orgWide: boolean;
  botUserId?: string | undefined;
  botId?: string | undefined;
}

/** The workspace a delivery says it came from: every team and enterprise id its payload names. */
export interface DeliveryOrigin {
  teams: string[];
  enterprises: string[];
}

/**
 * The bot's own workspace, asked once with `auth.test` and then kept. A failed call is not kept:
 * the next `get()` asks again, so a bot started while Slack was unreachable finds its workspace once
 * Slack answers (until then every delivery is refused).
 *
 * @example const ours = workspaceOf(client, log); const { teamId } = await ours.get();
 */
export function workspaceOf(client: WebClient, log: Logger): { get(): Promise<Workspace> } {
  let known: Promise<Workspace> | undefined;
  const ask = async (): Promise<Workspace> => {
    const me = await client.auth.test();
    if (!me.team_id && !me.enterprise_id) throw new Error('auth.test named no workspace');
    const found: Workspace = {
      teamId: me.team_id ?? '',
      enterpriseId: me.enterprise_id || undefined,
      orgWide: me.is_enterprise_install === true,
      botUserId: me.user_id,
      botId: me.bot_id,
    };
    log.info({ team: found.teamId, enterprise: found.enterpriseId, orgWide: found.orgWide }, 'bot workspace');
    return found;
  };
  return {
    get() {
      if (!known) {
        const attempt = ask();
        known = attempt;
        attempt.catch(() => {
          if (known === attempt) known = undefined;
        });
      }
      return known;
    },
  };
}

/**
 * Every team and enterprise id a delivery names: a command's `team_id`/`enterprise_id`, an
 * interaction's `team.id`, `user.team_id`, `view.team_id` and `enterprise.id`, an event's
 * `team_id`, `enterprise_id` and `event.user_team`/`event.team`. The check needs all of them to
 * agree with ours (a person of another workspace clicking in a shared channel has their own
 * `user.team_id`).
 */
export function originOf(body: unknown): DeliveryOrigin {
  const teams = new Set<string>();
  const enterprises = new Set<string>();
  const add = (set: Set<string>, value: unknown) => {
    if (typeof value === 'string' && value !== '') set.add(value);
  };
  const b = (body ?? {}) as Record<string, unknown>;
  const obj = (v: unknown) => (v && typeof v === 'object' ? (v as Record<string, unknown>) : {});
  add(teams, b.team_id);
  add(teams, obj(b.team).id);
  add(teams, obj(b.user).team_id);
  add(teams, obj(b.view).team_id);
  add(enterprises, b.enterprise_id);
  add(enterprises, obj(b.enterprise).id);
  const event = obj(b.event);
  add(teams, event.user_team);
  add(teams, event.team);
  return { teams: [...teams], enterprises: [...enterprises] };
}

/**
 * Whether a delivery is from our workspace. A single-workspace install: at least one team id, every
 * one of them ours, and any enterprise id ours too. An org-wide install: at least one enterprise id,
 * every one of them ours (its workspaces differ). A delivery that names no workspace at all is not
 * ours: it cannot be told apart from a stranger's.
 *
 * @example isOurs({ teamId: 'T1', orgWide: false }, originOf(body))
 */
export function isOurs(ours: Workspace, origin: DeliveryOrigin): boolean {
  const enterprisesOk = origin.enterprises.every((e) => e === ours.enterpriseId);
  if (ours.orgWide) return origin.enterprises.length > 0 && enterprisesOk;
  return origin.teams.length > 0 && origin.teams.every((t) => t === ours.teamId) && enterprisesOk;
}
