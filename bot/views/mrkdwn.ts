import { utcMinute } from '../../shared/clock.js';
import { formatDuration } from '../../shared/duration.js';

/**
 * Slack mrkdwn for values that come from people or the policy. Only `&`, `<` and `>` are special:
 * escaping them keeps a reason such as `<!channel>` or `<https://evil|click>` from becoming a ping or
 * a disguised link in the approval channel.
 */
export function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const SLACK_USER = /^[UW][A-Z0-9]{2,}$/;

/** `<@U…>` for a Slack user; jitgate itself (auto-approval, expiry) is named in words. */
export function mention(actor: string | undefined): string {
  if (!actor) return 'someone';
  if (SLACK_USER.test(actor)) return `<@${actor}>`;
  if (actor === 'jitgate') return 'jitgate';
  return escapeText(actor);
}

/** Mentions in reading order: "<@A>", "<@A> and <@B>", "<@A>, <@B> and <@C>". */
export function mentionList(actors: readonly string[]): string {
  const names = actors.map(mention);
  if (names.length <= 1) return names[0] ?? 'nobody';
  return `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

/**
 * A Slack date token: every reader sees the time in their own time zone; the fallback (UTC) is for
 * clients that cannot render it.
 *
 * @example dateToken(1_700_000_000_000) // '<!date^1700000000^{date_short_pretty} at {time}|2023-11-14 22:13 UTC>'
 */
export function dateToken(ms: number, format = '{date_short_pretty} at {time}'): string {
  return `<!date^${Math.floor(ms / 1000)}^${format}|${utcMinute(ms)}>`;
}

/** Time left, to the minute once it is more than a minute: "1h12m", "45m", "30s". */
export function timeLeft(ms: number): string {
  if (ms <= 0) return '0s';
  if (ms < 60_000) return formatDuration(Math.ceil(ms / 1000) * 1000);
  return formatDuration(Math.ceil(ms / 60_000) * 60_000);
}

/** `grafana/viewer` */
export function resourceRole(request: { resource: string; role: string }): string {
  return `${request.resource}/${request.role}`;
}

/** Plain text fields have hard limits (75 characters for an option); cut with an ellipsis. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
