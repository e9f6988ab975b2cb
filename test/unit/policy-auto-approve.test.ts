import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { isJitgateError } from '../../shared/errors.js';
import type { SlackUserId } from '../../shared/ids.js';
import type { PolicyProblem } from '../../shared/policy/index.js';
import {
  describeAutoApprove,
  inWorkingHours,
  isAutoApproved,
  loadPolicy,
} from '../../shared/policy/index.js';

const u = (s: string) => s as SlackUserId;
const H = 3_600_000;
/** Monday 7 December 2026, 10:00 UTC (11:00 in Berlin, 05:00 in New York). */
const MONDAY_10_UTC = Date.UTC(2026, 11, 7, 10, 0);

function grafana(autoApprove: unknown) {
  const text = stringify({
    defaults: { approvalChannel: 'C0APPROVALS', maxDuration: '8h' },
    resources: {
      grafana: {
        upstream: 'http://127.0.0.1:3001',
        match: { pathPrefix: '/grafana' },
        approvers: { users: ['U0ALICE'] },
        roles: { viewer: { methods: ['GET'] }, editor: { methods: ['*'] } },
        autoApprove,
      },
    },
  });
  return loadPolicy(text).resources.get('grafana')!;
}

function problems(autoApprove: unknown): PolicyProblem[] {
  try {
    grafana(autoApprove);
  } catch (err) {
    if (isJitgateError(err)) return err.fields.problems as PolicyProblem[];
    throw err;
  }
  throw new Error('expected the policy to be refused');
}

const lookup = async (group: string) => (group === 'S0ONCALL' ? [u('U0PAGED')] : []);
const ask = (user: string, role: string, durationMs = H, at = MONDAY_10_UTC) => ({
  user: u(user),
  role,
  durationMs,
  at,
});

describe('auto-approve rules', () => {
  it('when users, user groups or roles are named, then those requests need no approval and others do', async () => {
    const res = grafana({ users: ['U0LEAD'], usergroups: ['S0ONCALL'], roles: ['viewer'] });
    expect(await isAutoApproved(res, ask('U0LEAD', 'editor'), lookup)).toBe(true);
    expect(await isAutoApproved(res, ask('U0PAGED', 'editor'), lookup)).toBe(true);
    expect(await isAutoApproved(res, ask('U0ANYONE', 'viewer'), lookup)).toBe(true);
    expect(await isAutoApproved(res, ask('U0ANYONE', 'editor'), lookup)).toBe(false);
    expect(await isAutoApproved(grafana(undefined), ask('U0LEAD', 'viewer'), lookup)).toBe(false);
  });

  it('when the rule has a maxDuration, then longer requests go to the approvers, whoever asks', async () => {
    const res = grafana({ users: ['U0LEAD'], roles: ['viewer'], maxDuration: '2h' });
    expect(await isAutoApproved(res, ask('U0LEAD', 'editor', 2 * H), lookup)).toBe(true);
    expect(await isAutoApproved(res, ask('U0LEAD', 'editor', 2 * H + 1), lookup)).toBe(false);
    expect(await isAutoApproved(res, ask('U0ANYONE', 'viewer', 3 * H), lookup)).toBe(false);
  });

  it('when the rule has working hours, then it applies only inside them, in its time zone', async () => {
    const berlin = grafana({
      roles: ['viewer'],
      hours: { from: '09:00', to: '18:00', timezone: 'Europe/Berlin' },
    });
    expect(await isAutoApproved(berlin, ask('U0X', 'viewer'), lookup)).toBe(true); // 11:00 Monday in Berlin
    const saturday = Date.UTC(2026, 11, 12, 10, 0);
    expect(await isAutoApproved(berlin, ask('U0X', 'viewer', H, saturday), lookup)).toBe(false); // days default mon–fri
    const newYork = grafana({
      roles: ['viewer'],
      hours: { from: '09:00', to: '18:00', timezone: 'America/New_York' },
    });
    expect(await isAutoApproved(newYork, ask('U0X', 'viewer'), lookup)).toBe(false); // 05:00 there
  });

  it('when a window is checked at its edges, then from is inside and to is outside; a window may run past midnight', () => {
    const nine = { days: ['mon' as const], fromMinute: 9 * 60, toMinute: 18 * 60, timezone: 'UTC' };
    expect(inWorkingHours(nine, Date.UTC(2026, 11, 7, 9, 0))).toBe(true);
    expect(inWorkingHours(nine, Date.UTC(2026, 11, 7, 8, 59))).toBe(false);
    expect(inWorkingHours(nine, Date.UTC(2026, 11, 7, 18, 0))).toBe(false);
    expect(inWorkingHours(nine, Date.UTC(2026, 11, 7, 17, 59))).toBe(true);
    const night = { days: ['fri' as const], fromMinute: 22 * 60, toMinute: 6 * 60, timezone: 'UTC' };
    expect(inWorkingHours(night, Date.UTC(2026, 11, 11, 23, 0))).toBe(true); // Friday 23:00
    expect(inWorkingHours(night, Date.UTC(2026, 11, 12, 5, 59))).toBe(true); // Saturday 05:59, the same shift
    expect(inWorkingHours(night, Date.UTC(2026, 11, 12, 6, 0))).toBe(false);
    expect(inWorkingHours(night, Date.UTC(2026, 11, 11, 5, 0))).toBe(false); // Friday 05:00: Thursday has no shift
  });

  it('when explained, then it says who, which roles and the limits', () => {
    const rule = grafana({
      users: ['U0LEAD'],
      roles: ['viewer'],
      maxDuration: '2h',
      hours: { days: ['mon', 'tue'], from: '09:00', to: '17:30', timezone: 'Europe/Berlin' },
    }).autoApprove;
    expect(describeAutoApprove(rule, (p) => p.users.join(', '))).toBe(
      'U0LEAD; role viewer for anyone (up to 2h, mon tue 09:00–17:30 Europe/Berlin; longer or outside that, approvers decide)',
    );
    expect(describeAutoApprove(grafana(undefined).autoApprove, () => '')).toBe('nobody');
  });

  it('when the rule is wrong, then each problem has its key path and says how to write it', () => {
    const cases: [unknown, string, string][] = [
      [
        { roles: ['admin'] },
        'resources.grafana.autoApprove.roles[0]',
        'admin is not a role of this resource (its roles: viewer, editor)',
      ],
      [{ maxDuration: '1h' }, 'resources.grafana.autoApprove', 'names no users, usergroups or roles'],
      [
        { roles: ['viewer'], maxDuration: '8h' },
        'resources.grafana.autoApprove.maxDuration',
        "not shorter than the resource's maxDuration (8h)",
      ],
      [
        { roles: ['viewer'], hours: { from: '9am', to: '18:00' } },
        'resources.grafana.autoApprove.hours.from',
        'HH:MM',
      ],
      [
        { roles: ['viewer'], hours: { from: '09:00', to: '24:00' } },
        'resources.grafana.autoApprove.hours.to',
        'HH:MM',
      ],
      [
        { roles: ['viewer'], hours: { from: '09:00', to: '09:00' } },
        'resources.grafana.autoApprove.hours',
        'the window would be empty',
      ],
      [
        { roles: ['viewer'], hours: { from: '09:00', to: '17:00', timezone: 'Mars/Olympus' } },
        'resources.grafana.autoApprove.hours.timezone',
        'IANA name',
      ],
      [
        { roles: ['viewer'], hours: { days: ['monday', 'funday'], from: '09:00', to: '17:00' } },
        'resources.grafana.autoApprove.hours.days[1]',
        'is not a day',
      ],
      [
        { roles: ['viewer'], hours: { days: [], from: '09:00', to: '17:00' } },
        'resources.grafana.autoApprove.hours.days',
        'is empty',
      ],
      [
        { roles: ['viewer'], hours: { from: '09:00' } },
        'resources.grafana.autoApprove.hours.to',
        'is required',
      ],
      [
        { roles: ['viewer'], workingHours: {} },
        'resources.grafana.autoApprove.workingHours',
        'known here: users, usergroups, roles, maxDuration, hours',
      ],
      [{ usergroups: ['oncall'] }, 'resources.grafana.autoApprove.usergroups[0]', 'a Slack user group id'],
    ];
    for (const [rule, path, says] of cases) {
      const found = problems(rule);
      expect(found, JSON.stringify(rule)).toContainEqual({ path, message: expect.stringContaining(says) });
    }
  });
});
