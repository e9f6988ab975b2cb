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
  loadPolicy,
  matchResource,
  mayRequest,
  type Resource,
  requestableResources,
  resolveRole,
  type UsergroupLookup,
} from '../../shared/policy/index.js';

const policy = loadPolicy(`
defaults: { approvalChannel: C0APPROVALS, maxDuration: 4h }
admins: { users: [U0BOSS], usergroups: [S0ADMINS] }
resources:
  grafana:
    upstream: http://127.0.0.1:3001
    match: { pathPrefix: /grafana }
    approvers: { users: [U0ALICE, U0BOB], usergroups: [S0SRE] }
    roles: { viewer: { methods: [GET] }, editor: { methods: ["*"] } }
    autoApprove: { users: [U0ONCALL] }
  grafana-beta:
    upstream: http://127.0.0.1:3002
    match: { pathPrefix: /grafana-beta }
    approvers: { users: [U0ALICE] }
    requesters: { users: [U0DEV], usergroups: [S0BETA] }
  admin:
    upstream: http://127.0.0.1:3003
    match: { host: admin.example.com }
    approvers: { users: [U0ALICE] }
  deep:
    upstream: http://127.0.0.1:3004
    match: { pathPrefix: /tools/deep }
    approvers: { users: [U0ALICE] }
`);
const u = (id: string) => id as SlackUserId;
const GROUPS: Record<string, SlackUserId[]> = {
  S0SRE: [u('U0BOB'), u('U0SRE')],
  S0ADMINS: [u('U0ROOT')],
  S0BETA: [u('U0TESTER')],
};

/** A fake lookup that counts its calls per group. */
function fakeLookup(groups = GROUPS) {
  const calls: string[] = [];
  const lookup: UsergroupLookup = async (g) => {
    calls.push(g);
    return groups[g] ?? [];
  };
  return { lookup, calls };
}
const failing: UsergroupLookup = () => Promise.reject(new Error('slack is down'));

const grafana = () => getResource(policy, 'grafana');
const names = (resources: Resource[]) => resources.map((r) => r.name);

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}

describe('getResource and resolveRole', () => {
  it('when the resource exists, then it is found whatever the case', () => {
    expect(getResource(policy, 'grafana').name).toBe('grafana');
    expect(getResource(policy, 'GRAFANA').name).toBe('grafana');
  });

  it('when the resource is unknown, then no_such_resource lists those that exist and /access resources', () => {
    const err = thrown(() => getResource(policy, 'kibana'));
    expect(isJitgateError(err, 'no_such_resource')).toBe(true);
    expect((err as Error).message).toContain('grafana, grafana-beta, admin, deep');
    expect((err as Error).message).toContain('/access resources');
  });

  it('when no role is named, then the first in policy order is used', () => {
    expect(resolveRole(grafana()).name).toBe('viewer');
    expect(resolveRole(getResource(policy, 'admin')).name).toBe('access');
  });

  it('when a role is named, then it is found, and an unknown one is no_such_role listing the roles', () => {
    expect(resolveRole(grafana(), 'editor').methods).toEqual(['*']);
    expect(resolveRole(grafana(), 'Editor').name).toBe('editor');
    const err = thrown(() => resolveRole(grafana(), 'owner'));
    expect(isJitgateError(err, 'no_such_role')).toBe(true);
    expect((err as Error).message).toContain('viewer, editor');
  });
});

describe('checkDuration', () => {
  it('when no duration is asked for, then the default is used', () => {
    expect(checkDuration(grafana())).toBe(3_600_000);
  });

  it('when the duration is up to the maximum, then it is granted as asked', () => {
    expect(checkDuration(grafana(), 7_200_000)).toBe(7_200_000);
    expect(checkDuration(grafana(), 4 * 3_600_000)).toBe(4 * 3_600_000);
  });

  it('when the duration is above the maximum, then duration_too_long names the maximum', () => {
    const err = thrown(() => checkDuration(grafana(), 4 * 3_600_000 + 1_000));
    expect(isJitgateError(err, 'duration_too_long')).toBe(true);
    expect((err as Error).message).toContain('at most 4h');
  });

  it('when the duration is zero or negative, then it is duration_invalid', () => {
    for (const ms of [0, -1_000, Number.NaN]) {
      expect(
        isJitgateError(
          thrown(() => checkDuration(grafana(), ms)),
          'duration_invalid',
        ),
      ).toBe(true);
    }
  });
});

describe('who may request, approve or administer', () => {
  it('when a resource names no requesters, then everyone may request it', async () => {
    const { lookup, calls } = fakeLookup();
    expect(await mayRequest(policy, grafana(), u('U0ANYONE'), lookup)).toBe(true);
    expect(calls).toEqual([]);
  });

  it('when a resource names requesters, then only those users and group members may', async () => {
    const { lookup } = fakeLookup();
    const beta = getResource(policy, 'grafana-beta');
    expect(await mayRequest(policy, beta, u('U0DEV'), lookup)).toBe(true);
    expect(await mayRequest(policy, beta, u('U0TESTER'), lookup)).toBe(true);
    expect(await mayRequest(policy, beta, u('U0BOB'), lookup)).toBe(false);
  });

  it('when listing what a user may request, then policy order is kept and restricted ones are left out', async () => {
    const { lookup } = fakeLookup();
    expect(names(await requestableResources(policy, u('U0BOB'), lookup))).toEqual([
      'grafana',
      'admin',
      'deep',
    ]);
    expect(names(await requestableResources(policy, u('U0TESTER'), lookup))).toEqual([
      'grafana',
      'grafana-beta',
      'admin',
      'deep',
    ]);
  });

  it('when collecting approvers, then named users and group members are merged without duplicates', async () => {
    const { lookup } = fakeLookup();
    expect([...(await approversOf(grafana(), lookup))].sort()).toEqual(['U0ALICE', 'U0BOB', 'U0SRE']);
    expect([...(await approversOf(getResource(policy, 'admin'), lookup))]).toEqual(['U0ALICE']);
  });

  it('when asking whether someone approves, then named users and group members do', async () => {
    const { lookup } = fakeLookup();
    expect(await isApprover(grafana(), u('U0ALICE'), lookup)).toBe(true);
    expect(await isApprover(grafana(), u('U0SRE'), lookup)).toBe(true);
    expect(await isApprover(grafana(), u('U0DEV'), lookup)).toBe(false);
    expect(await isApprover(getResource(policy, 'admin'), u('U0SRE'), lookup)).toBe(false);
  });

  it('when asking whether someone is an admin, then named users and admin-group members are', async () => {
    const { lookup } = fakeLookup();
    expect(await isAdmin(policy, u('U0BOSS'), lookup)).toBe(true);
    expect(await isAdmin(policy, u('U0ROOT'), lookup)).toBe(true);
    expect(await isAdmin(policy, u('U0ALICE'), lookup)).toBe(false);
  });

  it('when a group lookup fails, then the question rejects instead of answering yes or no', async () => {
    await expect(isApprover(grafana(), u('U0SRE'), failing)).rejects.toThrow('slack is down');
    await expect(approversOf(grafana(), failing)).rejects.toThrow('slack is down');
    await expect(isAdmin(policy, u('U0ROOT'), failing)).rejects.toThrow('slack is down');
    await expect(
      mayRequest(policy, getResource(policy, 'grafana-beta'), u('U0TESTER'), failing),
    ).rejects.toThrow();
    await expect(requestableResources(policy, u('U0TESTER'), failing)).rejects.toThrow();
  });
});

describe('matchResource', () => {
  const route = (host: string | undefined, path: string) => {
    const m = matchResource(policy, host, path);
    return m && [m.resource.name, m.upstreamPath];
  };

  it.each([
    [undefined, '/grafana', ['grafana', '/']],
    [undefined, '/grafana/', ['grafana', '/']],
    [undefined, '/grafana/d/abc', ['grafana', '/d/abc']],
    [undefined, '/grafana/d/abc?orgId=1&x=/y', ['grafana', '/d/abc?orgId=1&x=/y']],
    [undefined, '/grafana?x=1', ['grafana', '/?x=1']],
    [undefined, '/grafana-beta/x', ['grafana-beta', '/x']],
    [undefined, '/tools/deep/x', ['deep', '/x']],
    ['access.example.com', '/grafana/x', ['grafana', '/x']],
    ['admin.example.com', '/grafana/x', ['admin', '/grafana/x']],
    ['ADMIN.Example.COM:8443', '/v1?a=1', ['admin', '/v1?a=1']],
    ['admin.example.com.', '/', ['admin', '/']],
    ['admin.example.com', 'v1', ['admin', '/v1']],
  ])('when the host is %s and the path %s, then it routes to %j', (host, path, expected) => {
    expect(route(host, path)).toEqual(expected);
  });

  it.each([
    [undefined, '/grafanax'],
    [undefined, '/grafan'],
    [undefined, '/'],
    [undefined, ''],
    [undefined, '/tools'],
    [undefined, '/tools/deeper'],
    [undefined, '/other/grafana'],
    ['other.example.com', '/v1'],
    ['admin.example.com.evil.com', '/v1'],
  ])('when the host is %s and the path %s, then nothing matches', (host, path) => {
    expect(matchResource(policy, host, path)).toBeUndefined();
  });
});

describe('cachedUsergroupLookup', () => {
  function setup(fail = () => false) {
    let now = 0;
    const clock: Clock = { now: () => now };
    const calls: string[] = [];
    const cached = cachedUsergroupLookup(
      async (g) => {
        calls.push(g);
        if (fail()) throw new Error('rate limited');
        return [...(GROUPS[g] ?? [])];
      },
      { ttlMs: 1_000, clock },
    );
    return { cached, calls, advance: (ms: number) => (now += ms) };
  }

  it('when asked again within the TTL, then Slack is asked once per group', async () => {
    const { cached, calls, advance } = setup();
    expect(await cached('S0SRE')).toEqual(['U0BOB', 'U0SRE']);
    advance(999);
    expect(await cached('S0SRE')).toEqual(['U0BOB', 'U0SRE']);
    expect(await cached('S0ADMINS')).toEqual(['U0ROOT']);
    expect(calls).toEqual(['S0SRE', 'S0ADMINS']);
  });

  it('when the TTL has passed, then Slack is asked again', async () => {
    const { cached, calls, advance } = setup();
    await cached('S0SRE');
    advance(1_000);
    await cached('S0SRE');
    expect(calls).toEqual(['S0SRE', 'S0SRE']);
  });

  it('when several ask at once, then one lookup is in flight', async () => {
    const { cached, calls } = setup();
    const answers = await Promise.all([cached('S0SRE'), cached('S0SRE'), cached('S0SRE')]);
    expect(answers).toEqual([GROUPS.S0SRE, GROUPS.S0SRE, GROUPS.S0SRE]);
    expect(calls).toEqual(['S0SRE']);
  });

  it('when a lookup fails, then it rejects, is not cached, and the next call asks again', async () => {
    let failing = true;
    const { cached, calls } = setup(() => failing);
    await expect(cached('S0SRE')).rejects.toThrow('rate limited');
    failing = false;
    expect(await cached('S0SRE')).toEqual(['U0BOB', 'U0SRE']);
    expect(await cached('S0SRE')).toEqual(['U0BOB', 'U0SRE']);
    expect(calls).toEqual(['S0SRE', 'S0SRE']);
  });

  it('when the lookup throws instead of rejecting, then the caller still gets a rejection', async () => {
    const cached = cachedUsergroupLookup(
      () => {
        throw new Error('bug');
      },
      { ttlMs: 1_000, clock: { now: () => 0 } },
    );
    await expect(cached('S0SRE')).rejects.toThrow('bug');
  });

  it('when a caller changes the list it got, then the cached list is unchanged', async () => {
    const { cached } = setup();
    (await cached('S0SRE')).push(u('U0MALLORY'));
    expect(await cached('S0SRE')).toEqual(['U0BOB', 'U0SRE']);
  });
});
