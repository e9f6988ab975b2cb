import { formatDuration } from '../duration.js';
import type { SlackUserId } from '../ids.js';
import { isAmong } from './queries.js';
import { WEEKDAYS } from './schema.js';
import type { AutoApprove, Resource, UsergroupLookup, WorkingHours } from './types.js';

/** A request as auto-approval sees it: who, which role, for how long from now, and when it is asked. */
export interface AutoApproveAsk {
  user: SlackUserId;
  role: string;
  /** The time the grant would have from now: the asked duration, or for an extension what it would have left. */
  durationMs: number;
  at: number;
}

/**
 * Whether a request needs no approval (`autoApprove`): its requester is among the rule's users or
 * usergroups, or its role among the rule's roles; and it asks for at most `maxDuration` within
 * `hours`, when those are set. Anything else goes to the approvers as usual.
 *
 * @example if (await isAutoApproved(grafana, { user, role: 'viewer', durationMs, at: clock.now() }, lookup)) …
 */
export async function isAutoApproved(
  resource: Resource,
  ask: AutoApproveAsk,
  lookup: UsergroupLookup,
): Promise<boolean> {
  const rule = resource.autoApprove;
  if (rule.maxDurationMs !== undefined && ask.durationMs > rule.maxDurationMs) return false;
  if (rule.hours && !inWorkingHours(rule.hours, ask.at)) return false;
  return rule.roles.includes(ask.role) || isAmong(rule, ask.user, lookup);
}

const localTime = new Map<string, Intl.DateTimeFormat>();

/** The weekday and minute of the day at `at` in `timezone`. */
function local(at: number, timezone: string): { day: number; minute: number } {
  let format = localTime.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    localTime.set(timezone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(at).map((p) => [p.type, p.value]));
  const day = WEEKDAYS.indexOf(String(parts.weekday).toLowerCase() as (typeof WEEKDAYS)[number]);
  return { day, minute: Number(parts.hour) * 60 + Number(parts.minute) };
}

/**
 * Whether `at` falls in the weekly window: on one of its days from `from` up to (not including)
 * `to`, local time; a window whose `to` is before its `from` runs past midnight into the next day.
 *
 * @example inWorkingHours({ days: ['mon'], fromMinute: 540, toMinute: 1080, timezone: 'UTC' }, Date.UTC(2026, 11, 7, 10)) // true
 */
export function inWorkingHours(hours: WorkingHours, at: number): boolean {
  const { day, minute } = local(at, hours.timezone);
  const on = (d: number) => hours.days.includes(WEEKDAYS[(d + 7) % 7]!);
  if (hours.fromMinute < hours.toMinute)
    return on(day) && minute >= hours.fromMinute && minute < hours.toMinute;
  return (on(day) && minute >= hours.fromMinute) || (on(day - 1) && minute < hours.toMinute);
}

const hhmm = (minute: number) =>
  `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;

/** One line for `policy explain`: who and which roles, and the limits. */
export function describeAutoApprove(rule: AutoApprove, people: (p: AutoApprove) => string): string {
  const who = rule.users.length + rule.usergroups.length > 0 ? people(rule) : '';
  const roles =
    rule.roles.length > 0
      ? `role${rule.roles.length > 1 ? 's' : ''} ${rule.roles.join(', ')} for anyone`
      : '';
  if (!who && !roles) return 'nobody';
  const limits = [
    rule.maxDurationMs !== undefined ? `up to ${formatDuration(rule.maxDurationMs)}` : '',
    rule.hours
      ? `${rule.hours.days.join(' ')} ${hhmm(rule.hours.fromMinute)}–${hhmm(rule.hours.toMinute)} ${rule.hours.timezone}`
      : '',
  ].filter(Boolean);
  return `${[who, roles].filter(Boolean).join('; ')}${limits.length > 0 ? ` (${limits.join(', ')}; longer or outside that, approvers decide)` : ''}`;
}
