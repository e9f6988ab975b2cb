import { describe, expect, it } from 'vitest';
import type { Clock } from '../../shared/clock.js';
import { isJitgateError } from '../../shared/errors.js';
import type { SlackUserId } from '../../shared/ids.js';
import {
  approversOf,
  cachedUsergroupLookup,
  checkDuration,
  getResource,
  isAdmin,
  isApprover,
  isAutoApproved,
  loadPolicy,
  matchResource,
  mayRequest,
  requestableResources,
  resolveRole,
} from '../../shared/policy/index.js';

const policy = loadPolicy(`
defaults: { approvalChannel: C0APPROVALS, maxDuration: 4h }
admins: { usergroups: [S0ADMINS] }
resources:
  grafana:
    upstream: http://127.0.0.1:3001
    match: { pathPrefix: /grafana }
    approvers: { users: [U0ALICE], usergroups: [S0SRE] }
    roles: { viewer: { methods: [GET] }, editor: { methods: ["*"] } }
    autoApprove: { users: [U0ONCALL] }
  grafana-beta:
    upstream: http://127.0.0.1:3002
    match: { pathPrefix: /grafana-beta }
    approvers: { users: [U0ALICE] }
    requesters: { users: [U0DEV] }
  admin:
    upstream: http://127.0.0.1:3003
    match: { host: admin.example.com }
    approvers: { users: [U0ALICE] }
`);
const u = (id: string) => id as SlackUserId;
const groups: Record<string, SlackUserId[]> = { S0SRE: [u('U0BOB')], S0ADMINS: [u('U0ROOT')] };
const lookup = async (g: string) => groups[g] ?? [];

describe('policy queries', () => {
  it('when a resource or role is unknown, then the error lists what exists', () => {
    expect(() => getResource(policy, 'kibana')).toThrow(/grafana, grafana-beta, admin/);
    expect(getResource(policy, 'GRAFANA').name).toBe('grafana');
    const grafana = getResource(policy, 'grafana');
    expect(resolveRole(grafana).name).toBe('viewer');
    expect(resolveRole(grafana, 'editor').name).toBe('editor');
    expect(() => resolveRole(grafana, 'owner')).toThrow(/viewer, editor/);
  });

  it('when a duration is above the maximum, then it is refused naming the maximum', () => {
    const grafana = getResource(policy, 'grafana');
    expect(checkDuration(grafana)).toBe(3_600_000);
    expect(checkDuration(grafana, 7_200_000)).toBe(7_200_000);
    try {
      checkDuration(grafana, 5 * 3_600_000);
      expect.unreachable();
    } catch (err) {
      expect(isJitgateError(err, 'duration_too_long')).toBe(true);
      expect((err as Error).message).toContain('at most 4h');
    }
  });

  it('when asking who may request, approve or administer, then users and group members count', async () => {
    const grafana = getResource(policy, 'grafana');
    const beta = getResource(policy, 'grafana-beta');
    expect(await mayRequest(policy, beta, u('U0DEV'), lookup)).toBe(true);
    expect(await mayRequest(policy, beta, u('U0BOB'), lookup)).toBe(false);
    expect((await requestableResources(policy, u('U0BOB'), lookup)).map((r) => r.name)).toEqual([
      'grafana',
      'admin',
    ]);
    expect([...(await approversOf(grafana, lookup))].sort()).toEqual(['U0ALICE', 'U0BOB']);
    expect(await isApprover(grafana, u('U0BOB'), lookup)).toBe(true);
    expect(await isApprover(grafana, u('U0DEV'), lookup)).toBe(false);
    expect(await isAdmin(policy, u('U0ROOT'), lookup)).toBe(true);
    expect(await isAdmin(policy, u('U0ALICE'), lookup)).toBe(false);
    expect(isAutoApproved(grafana, u('U0ONCALL'))).toBe(true);
  });

  it('when a group lookup fails, then the question rejects instead of answering no or yes', async () => {
    const grafana = getResource(policy, 'grafana');
    await expect(
      isApprover(grafana, u('U0BOB'), () => Promise.reject(new Error('slack down'))),
    ).rejects.toThrow();
  });

  it('when routing, then hosts win, prefixes match on segment boundaries and are stripped', () => {
    expect(matchResource(policy, 'admin.example.com:8080', '/grafana/x')?.resource.name).toBe('admin');
    expect(matchResource(policy, 'ADMIN.example.com', '/v1?a=1')?.upstreamPath).toBe('/v1?a=1');
    expect(matchResource(policy, 'access.example.com', '/grafana')).toMatchObject({ upstreamPath: '/' });
    expect(matchResource(policy, undefined, '/grafana/d/1?x=2')).toMatchObject({ upstreamPath: '/d/1?x=2' });
    expect(matchResource(policy, undefined, '/grafana?x=2')).toMatchObject({ upstreamPath: '/?x=2' });
    expect(matchResource(policy, undefined, '/grafana-beta/x')?.resource.name).toBe('grafana-beta');
    expect(matchResource(policy, undefined, '/grafanax')).toBeUndefined();
    expect(matchResource(policy, undefined, '/other')).toBeUndefined();
  });

  it('when group members are cached, then Slack is asked once per TTL and failures are not cached', async () => {
    let now = 0;
    const clock: Clock = { now: () => now };
    let calls = 0;
    let fail = true;
    const cached = cachedUsergroupLookup(
      async () => {
        calls += 1;
        if (fail) throw new Error('rate limited');
        return [u('U0BOB')];
      },
      { ttlMs: 1_000, clock },
    );
    await expect(cached('S0SRE')).rejects.toThrow();
    fail = false;
    expect(await cached('S0SRE')).toEqual(['U0BOB']);
    expect(await cached('S0SRE')).toEqual(['U0BOB']);
    expect(calls).toBe(2);
    now = 1_500;
    await cached('S0SRE');
    expect(calls).toBe(3);
  });
});
