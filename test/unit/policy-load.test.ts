import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { isJitgateError, type JitgateError } from '../../shared/errors.js';
import {
  browserUrl,
  loadPolicy,
  loadPolicyFile,
  type PolicyProblem,
  policyWarnings,
  takesBrowserCookies,
} from '../../shared/policy/index.js';

type Tree = Record<string, unknown>;

/** A small valid policy; each test changes what it needs. */
function base(): Tree {
  return {
    defaults: { approvalChannel: 'C0APPROVALS' },
    resources: {
      grafana: {
        upstream: 'http://127.0.0.1:3001',
        match: { pathPrefix: '/grafana' },
        approvers: { users: ['U0ALICE'] },
      },
    },
  };
}

/** `base()` with `change` applied to its grafana resource (and, optionally, the whole tree). */
function withGrafana(change: Tree, whole: (t: Tree) => void = () => {}): string {
  const tree = base();
  const resources = tree.resources as Record<string, Tree>;
  resources.grafana = { ...resources.grafana, ...change };
  whole(tree);
  return stringify(tree);
}

function withResource(name: string, body: Tree): string {
  return withGrafana({}, (t) => {
    (t.resources as Tree)[name] = body;
  });
}

function refusal(text: string): JitgateError {
  try {
    loadPolicy(text);
  } catch (err) {
    if (isJitgateError(err)) return err;
    throw err;
  }
  throw new Error('expected the policy to be refused');
}

const problemsOf = (err: JitgateError) => err.fields.problems as PolicyProblem[];

describe('loadPolicy: a valid policy', () => {
  it('when the example policy loads, then defaults are merged into each resource', () => {
    const policy = loadPolicyFile('policy.example.yml');
    expect([...policy.resources.keys()]).toEqual(['grafana', 'admin-api', 'prod-db']);
    const grafana = policy.resources.get('grafana')!;
    expect(grafana).toMatchObject({
      approvalChannel: 'C0APPROVALS',
      defaultDurationMs: 3_600_000,
      maxDurationMs: 4 * 3_600_000,
      pendingTimeoutMs: 30 * 60_000,
      nudgeAfterMs: 10 * 60_000,
      reminderBeforeMs: 5 * 60_000,
      approvalsRequired: 2,
      selfApproval: false,
      websocket: true,
      breakGlass: false,
      match: { host: 'grafana.access.example.com' },
      approvers: { users: ['U0ALICE', 'U0CAROL'], usergroups: ['S0SRE'] },
      requesters: undefined,
      networks: ['10.0.0.0/8', '127.0.0.0/8'],
      autoApprove: { users: ['U0ONCALL'], usergroups: [] },
    });
    expect(grafana.roles).toEqual([
      { name: 'viewer', methods: ['GET', 'HEAD'], paths: ['/**'], websocket: false },
      { name: 'editor', methods: ['*'], paths: ['/api/**'], websocket: true },
    ]);
    const adminApi = policy.resources.get('admin-api')!;
    expect(adminApi).toMatchObject({
      match: { pathPrefix: '/admin-api' },
      breakGlass: true,
      defaultDurationMs: 30 * 60_000,
      maxDurationMs: 3_600_000,
      approvalsRequired: 1,
      requesters: { users: [], usergroups: ['S0PLATFORM'] },
    });
    expect(policy.admins).toEqual({ users: ['U0ADMIN'], usergroups: [] });
  });

  it('when defaults say nothing, then the built-in defaults apply', () => {
    const grafana = loadPolicy(stringify(base())).resources.get('grafana')!;
    expect(grafana).toMatchObject({
      description: '',
      defaultDurationMs: 3_600_000,
      maxDurationMs: 8 * 3_600_000,
      pendingTimeoutMs: 30 * 60_000,
      nudgeAfterMs: 10 * 60_000,
      reminderBeforeMs: 5 * 60_000,
      approvalsRequired: 1,
      selfApproval: false,
      networks: [],
      websocket: false,
      breakGlass: false,
      requesters: undefined,
    });
  });

  it('when a resource sets a value, then it wins over defaults', () => {
    const text = withGrafana({ maxDuration: '2h', approvalChannel: 'G0PRIVATE', selfApproval: true }, (t) => {
      t.defaults = { approvalChannel: 'C0APPROVALS', maxDuration: '4h', defaultDuration: '30m' };
    });
    expect(loadPolicy(text).resources.get('grafana')).toMatchObject({
      maxDurationMs: 2 * 3_600_000,
      defaultDurationMs: 30 * 60_000,
      approvalChannel: 'G0PRIVATE',
      selfApproval: true,
    });
  });

  it('when defaults set an escalation, then resources get it and may set their own', () => {
    const text = withResource('db', {
      upstream: 'http://127.0.0.1:3002',
      match: { pathPrefix: '/db' },
      approvers: { users: ['U0ALICE'] },
      escalateAfter: '5m',
    });
    const policy = loadPolicy(
      text.replace(
        'approvalChannel: C0APPROVALS',
        'approvalChannel: C0APPROVALS\n  escalateAfter: 20m\n  escalateTo: { usergroups: [S0LEADS] }',
      ),
    );
    expect(policy.resources.get('grafana')!.escalation).toEqual({
      afterMs: 20 * 60_000,
      to: { users: [], usergroups: ['S0LEADS'] },
    });
    expect(policy.resources.get('db')!.escalation?.afterMs).toBe(5 * 60_000);
    expect(loadPolicy(withGrafana({})).resources.get('grafana')!.escalation).toBeUndefined();
  });

  it('when defaults set a reasonPattern, then every resource gets it unless it sets its own', () => {
    const text = withResource('db', {
      upstream: 'http://127.0.0.1:3002',
      match: { pathPrefix: '/db' },
      approvers: { users: ['U0ALICE'] },
      reasonPattern: '^CHG-[0-9]+',
    });
    const tree = loadPolicy(
      text.replace(
        'approvalChannel: C0APPROVALS',
        'approvalChannel: C0APPROVALS\n  reasonPattern: ^(INC|CHG)-[0-9]+',
      ),
    );
    expect(tree.resources.get('grafana')!.reasonPattern).toBe('^(INC|CHG)-[0-9]+');
    expect(tree.resources.get('db')!.reasonPattern).toBe('^CHG-[0-9]+');
    expect(loadPolicy(withGrafana({})).resources.get('grafana')!.reasonPattern).toBeUndefined();
  });

  it('when a resource has no roles, then it gets one role for every method and path', () => {
    expect(loadPolicy(stringify(base())).resources.get('grafana')!.roles).toEqual([
      { name: 'access', methods: ['*'], paths: ['/**'], websocket: false },
    ]);
  });

  it('when roles and resources are listed, then they keep the order of the file, even with numeric names', () => {
    const text = `
defaults: { approvalChannel: C0APPROVALS }
resources:
  zeta:
    upstream: http://127.0.0.1:3001
    match: { pathPrefix: /zeta }
    approvers: { users: [U0ALICE] }
    roles:
      "2": { methods: [get, Get, POST] }
      "1": { methods: [GET] }
      b: { methods: [GET] }
  "10":
    upstream: http://127.0.0.1:3002
    match: { pathPrefix: /ten }
    approvers: { users: [U0ALICE] }
`;
    const policy = loadPolicy(text);
    expect([...policy.resources.keys()]).toEqual(['zeta', '10']);
    const zeta = policy.resources.get('zeta')!;
    expect(zeta.roles.map((r) => r.name)).toEqual(['2', '1', 'b']);
    expect(zeta.roles[0]!.methods).toEqual(['GET', 'POST']);
  });

  it('when values need tidying, then the host is lower-cased and the upstream loses its trailing /', () => {
    const policy = loadPolicy(
      withGrafana({
        upstream: 'https://grafana.internal:3000/',
        match: { host: 'Grafana.Access.Example.com' },
      }),
    );
    expect(policy.resources.get('grafana')).toMatchObject({
      upstream: 'https://grafana.internal:3000',
      match: { host: 'grafana.access.example.com' },
    });
  });

  it('when ids, CIDRs and methods have every accepted shape, then they load', () => {
    const text = withGrafana(
      {
        approvers: { users: ['U0ALICE', 'W0ENTERPRISE'], usergroups: ['S0SRE'] },
        approvalsRequired: 2,
        approvalChannel: 'G0PRIVATE',
        networks: ['10.0.0.0/8', '192.168.1.7/32', 'fd00::/8', '::1/128'],
        roles: {
          ops: { methods: ['get', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] },
          all: { methods: ['*'] },
        },
      },
      (t) => {
        t.admins = { users: ['U0ADMIN'], usergroups: ['S0ADMINS'] };
      },
    );
    const grafana = loadPolicy(text).resources.get('grafana')!;
    expect(grafana.networks).toHaveLength(4);
    expect(grafana.roles[0]!.methods[0]).toBe('GET');
  });
});

describe('loadPolicy: a broken policy', () => {
  const longName = 'a'.repeat(41);
  const other = (match: Tree) => ({
    upstream: 'http://127.0.0.1:3002',
    match,
    approvers: { users: ['U0ALICE'] },
  });
  // [what is wrong, policy text, key path named, words in the message]
  const broken: [string, string, string, string][] = [
    [
      'an unknown top-level key',
      withGrafana({}, (t) => Object.assign(t, { extra: 1 })),
      'extra',
      'not a known key',
    ],
    ['an unknown resource key', withGrafana({ colour: 'red' }), 'resources.grafana.colour', 'known here:'],
    [
      'an unknown defaults key',
      withGrafana({}, (t) => Object.assign(t.defaults as Tree, { maxDurration: '1h' })),
      'defaults.maxDurration',
      'maxDuration',
    ],
    [
      'a browser setting other than shared-origin',
      withGrafana({ browser: 'cookies' }),
      'resources.grafana.browser',
      '"cookies" is not a browser setting: the only value is shared-origin',
    ],
    [
      'a browser setting on a host resource',
      withGrafana({ match: { host: 'grafana.example.com' }, browser: 'shared-origin' }),
      'resources.grafana.browser',
      'a host resource already has its own origin',
    ],
    [
      'escalateAfter without escalateTo',
      withGrafana({ escalateAfter: '20m' }),
      'resources.grafana.escalateTo',
      'is required with escalateAfter',
    ],
    [
      'escalateTo in defaults without escalateAfter anywhere',
      withGrafana({}, (t) => Object.assign(t.defaults as Tree, { escalateTo: { users: ['U0BOSS'] } })),
      'defaults.escalateAfter',
      'is required with escalateTo',
    ],
    [
      'escalateTo naming nobody',
      withGrafana({ escalateAfter: '20m', escalateTo: { users: [] } }),
      'resources.grafana.escalateTo',
      'names nobody',
    ],
    [
      'escalateAfter not shorter than pendingTimeout',
      withGrafana({ escalateAfter: '30m', escalateTo: { users: ['U0BOSS'] } }),
      'resources.grafana.escalateAfter',
      '(30m) must be shorter than pendingTimeout (30m)',
    ],
    [
      'escalateTo with a channel id',
      withGrafana({ escalateAfter: '20m', escalateTo: { users: ['C0CHANNEL'] } }),
      'resources.grafana.escalateTo.users[0]',
      'is not a Slack user id',
    ],
    [
      'a reason pattern that is not a regular expression',
      withGrafana({ reasonPattern: '^(INC|CHG-[0-9]+' }),
      'resources.grafana.reasonPattern',
      'is not a regular expression',
    ],
    [
      'a reason pattern with a repeated group that repeats (exponential time)',
      withGrafana({ reasonPattern: '^(INC-[0-9]+)+$' }),
      'resources.grafana.reasonPattern',
      'repeats a group that itself repeats',
    ],
    [
      'a reason pattern with nested stars',
      withGrafana({}, (t) => Object.assign(t.defaults as Tree, { reasonPattern: '(a*b*)*c' })),
      'defaults.reasonPattern',
      'without the nested repetition',
    ],
    [
      'an empty reason pattern',
      withGrafana({ reasonPattern: '' }),
      'resources.grafana.reasonPattern',
      'is empty',
    ],
    [
      'a reason pattern longer than 200 characters',
      withGrafana({ reasonPattern: `^${'x'.repeat(200)}` }),
      'resources.grafana.reasonPattern',
      'keep it to 200',
    ],
    [
      'an unparsable duration',
      withGrafana({ maxDuration: '4x' }),
      'resources.grafana.maxDuration',
      '"4x" is not a duration (write 30s, 15m, 2h, 1h30m or 1d)',
    ],
    [
      'a duration without a unit',
      withGrafana({ pendingTimeout: 30 }),
      'resources.grafana.pendingTimeout',
      '30 is not a duration',
    ],
    [
      'a zero duration',
      withGrafana({ defaultDuration: '0m' }),
      'resources.grafana.defaultDuration',
      'is zero',
    ],
    [
      'a default above the maximum',
      withGrafana({ defaultDuration: '5h', maxDuration: '4h' }),
      'resources.grafana.defaultDuration',
      'longer than maxDuration (4h)',
    ],
    [
      'a maximum below the default from defaults',
      withGrafana({ maxDuration: '30m' }),
      'resources.grafana.maxDuration',
      'defaultDuration (1h, built in)',
    ],
    [
      'approvalsRequired 0',
      withGrafana({ approvalsRequired: 0 }),
      'resources.grafana.approvalsRequired',
      'at least 1',
    ],
    [
      'approvalsRequired not whole',
      withGrafana({ approvalsRequired: 1.5 }),
      'resources.grafana.approvalsRequired',
      'whole number',
    ],
    [
      'approvalsRequired above the named approvers',
      withGrafana({ approvalsRequired: 2 }),
      'resources.grafana.approvalsRequired',
      'could never be met',
    ],
    [
      'requesters naming nobody',
      withGrafana({ requesters: { users: [] } }),
      'resources.grafana.requesters',
      'no one could ask',
    ],
    [
      'approvers naming nobody',
      withGrafana({ approvers: {} }),
      'resources.grafana.approvers',
      'names nobody',
    ],
    [
      'nudgeAfter not before pendingTimeout',
      withGrafana({ nudgeAfter: '30m', pendingTimeout: '30m' }),
      'resources.grafana.nudgeAfter',
      'shorter than pendingTimeout',
    ],
    [
      'reminderBefore not before maxDuration',
      withGrafana({ reminderBefore: '1h', maxDuration: '1h', defaultDuration: '30m' }),
      'resources.grafana.reminderBefore',
      'shorter than maxDuration',
    ],
    [
      'a bad CIDR',
      withGrafana({ networks: ['10.0.0.0/8', '300.1.1.1/8'] }),
      'resources.grafana.networks[1]',
      'not a CIDR',
    ],
    [
      'a CIDR in an unusual spelling',
      withGrafana({ networks: ['10/8'] }),
      'resources.grafana.networks[0]',
      'not a CIDR',
    ],
    [
      'a prefix length too long',
      withGrafana({ networks: ['fd00::/129'] }),
      'resources.grafana.networks[0]',
      'not a CIDR',
    ],
    [
      'an ftp upstream',
      withGrafana({ upstream: 'ftp://files.internal' }),
      'resources.grafana.upstream',
      'http:// or https://',
    ],
    [
      'an upstream that is no URL',
      withGrafana({ upstream: 'grafana:3000/x y' }),
      'resources.grafana.upstream',
      'http',
    ],
    [
      'a prefix without a leading /',
      withGrafana({ match: { pathPrefix: 'grafana' } }),
      'resources.grafana.match.pathPrefix',
      'must start with /',
    ],
    [
      'a prefix with a trailing /',
      withGrafana({ match: { pathPrefix: '/grafana/' } }),
      'resources.grafana.match.pathPrefix',
      'must not end with /',
    ],
    [
      'a prefix of / alone',
      withGrafana({ match: { pathPrefix: '/' } }),
      'resources.grafana.match.pathPrefix',
      'must not end with /',
    ],
    [
      'a prefix with ..',
      withGrafana({ match: { pathPrefix: '/gra/../x' } }),
      'resources.grafana.match.pathPrefix',
      '..',
    ],
    [
      'a prefix with %',
      withGrafana({ match: { pathPrefix: '/gra%2ffana' } }),
      'resources.grafana.match.pathPrefix',
      'must not contain %',
    ],
    [
      'a prefix with \\',
      withGrafana({ match: { pathPrefix: '/gra\\fana' } }),
      'resources.grafana.match.pathPrefix',
      '\\',
    ],
    [
      'a prefix with //',
      withGrafana({ match: { pathPrefix: '/gra//fana' } }),
      'resources.grafana.match.pathPrefix',
      '//',
    ],
    [
      'the reserved prefix',
      withGrafana({ match: { pathPrefix: '/_jitgate' } }),
      'resources.grafana.match.pathPrefix',
      'reserved',
    ],
    [
      'a prefix below the reserved one',
      withGrafana({ match: { pathPrefix: '/_jitgate/redeem' } }),
      'resources.grafana.match.pathPrefix',
      'reserved',
    ],
    [
      'both host and pathPrefix',
      withGrafana({ match: { pathPrefix: '/grafana', host: 'g.example.com' } }),
      'resources.grafana.match',
      'exactly one',
    ],
    ['neither host nor pathPrefix', withGrafana({ match: {} }), 'resources.grafana.match', 'give one of'],
    [
      'a host with a port',
      withGrafana({ match: { host: 'grafana.example.com:443' } }),
      'resources.grafana.match.host',
      'not a host name',
    ],
    [
      'a duplicate path prefix',
      withResource('other', other({ pathPrefix: '/grafana' })),
      'resources.other.match.pathPrefix',
      'already the prefix of grafana',
    ],
    [
      'a prefix inside another',
      withResource('other', other({ pathPrefix: '/grafana/api' })),
      'resources.other.match.pathPrefix',
      'ambiguous',
    ],
    [
      'a duplicate host, differently cased',
      withGrafana({ match: { host: 'A.example.com' } }, (t) => {
        (t.resources as Tree).b = other({ host: 'a.EXAMPLE.com' });
      }),
      'resources.b.match.host',
      'already the host of grafana',
    ],
    [
      'a bad user id',
      withGrafana({ approvers: { users: ['alice'] } }),
      'resources.grafana.approvers.users[0]',
      'not a Slack user id',
    ],
    [
      'a user group id that is a user id',
      withGrafana({ approvers: { users: ['U0ALICE'], usergroups: ['U0SRE'] } }),
      'resources.grafana.approvers.usergroups[0]',
      'user group id',
    ],
    [
      'a channel name instead of an id',
      withGrafana({ approvalChannel: '#approvals' }),
      'resources.grafana.approvalChannel',
      'channel id',
    ],
    [
      'a bad admin id',
      withGrafana({}, (t) => Object.assign(t, { admins: { users: ['root'] } })),
      'admins.users[0]',
      'not a Slack user id',
    ],
    [
      'a bad auto-approved id',
      withGrafana({ autoApprove: { users: ['oncall'] } }),
      'resources.grafana.autoApprove.users[0]',
      'not a Slack user id',
    ],
    [
      'a bad requester group',
      withGrafana({ requesters: { usergroups: ['sre'] } }),
      'resources.grafana.requesters.usergroups[0]',
      'user group id',
    ],
    [
      'an unknown method',
      withGrafana({ roles: { viewer: { methods: ['FETCH'] } } }),
      'resources.grafana.roles.viewer.methods[0]',
      'not a method',
    ],
    [
      'a role without methods',
      withGrafana({ roles: { viewer: { methods: [] } } }),
      'resources.grafana.roles.viewer.methods',
      'is empty',
    ],
    [
      'a role that leaves out methods',
      withGrafana({ roles: { viewer: { paths: ['/**'] } } }),
      'resources.grafana.roles.viewer.methods',
      'is required',
    ],
    [
      'a role glob without /',
      withGrafana({ roles: { viewer: { methods: ['GET'], paths: ['api/**'] } } }),
      'resources.grafana.roles.viewer.paths[0]',
      'must start with /',
    ],
    ['empty roles', withGrafana({ roles: {} }), 'resources.grafana.roles', 'is empty'],
    [
      'a role name with /',
      withGrafana({ roles: { 'view/er': { methods: ['GET'] } } }),
      'resources.grafana.roles.view/er',
      'not a usable name',
    ],
    [
      'a role name of white space',
      withGrafana({ roles: { ' ': { methods: ['GET'] } } }),
      'resources.grafana.roles[" "]',
      'not a usable name',
    ],
    [
      'no approval channel anywhere',
      withGrafana({}, (t) => delete t.defaults),
      'resources.grafana.approvalChannel',
      'defaults.approvalChannel',
    ],
    [
      'a resource name with / and capitals',
      withResource('Grafana/Prod', other({ pathPrefix: '/prod' })),
      'resources.Grafana/Prod',
      'not a usable name',
    ],
    [
      'a resource name too long',
      withResource(longName, other({ pathPrefix: '/long' })),
      `resources.${longName}`,
      'at most 40',
    ],
    [
      'no resources',
      stringify({ defaults: { approvalChannel: 'C0APPROVALS' }, resources: {} }),
      'resources',
      'at least one resource',
    ],
    ['a missing upstream', withGrafana({ upstream: undefined }), 'resources.grafana.upstream', 'is required'],
    [
      'a boolean written as text',
      withGrafana({ websocket: 'yes please' }),
      'resources.grafana.websocket',
      'true or false',
    ],
    ['a YAML syntax error', 'resources:\n  grafana: [unclosed\n', 'line 3, column 1', 'YAML: Flow sequence'],
    ['a duplicate YAML key', 'defaults: {}\nresources: {}\nresources: {}\n', 'line 3, column 1', 'unique'],
    ['an empty file', '', '(top level)', 'is empty'],
  ];

  it.each(broken)('when the policy has %s, then the error names the key path', (_what, text, path, words) => {
    const err = refusal(text);
    expect(err.code).toBe('policy_invalid');
    expect(err.message).toContain(`${path}: `);
    expect(err.message).toContain(words);
    expect(problemsOf(err).some((p) => (p.path || '(top level)').startsWith(path))).toBe(true);
  });

  it('when a policy has several problems of every kind, then all are reported at once, one per line', () => {
    const text = withGrafana(
      { maxDuration: 'nope', approvalsRequired: 0, networks: ['bad'], colour: 'red' },
      (t) => {
        Object.assign(t.resources as Tree, {
          other: other({ pathPrefix: '/grafana' }),
          slow: { ...other({ pathPrefix: '/slow' }), nudgeAfter: '1h', typo: true },
        });
        t.admins = { users: ['root'] };
      },
    );
    const err = refusal(text);
    const paths = problemsOf(err).map((p) => p.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'admins.users[0]',
        'resources.grafana.maxDuration',
        'resources.grafana.approvalsRequired',
        'resources.grafana.networks[0]',
        'resources.grafana.colour',
        'resources.other.match.pathPrefix',
        'resources.slow.typo',
        'resources.slow.nudgeAfter',
      ]),
    );
    const lines = err.message.split('\n').slice(1);
    expect(lines).toHaveLength(problemsOf(err).length);
    for (const [i, p] of problemsOf(err).entries()) expect(lines[i]).toBe(`  ${p.path}: ${p.message}`);
  });

  it('when two settings in defaults contradict each other, then it is reported once, at defaults', () => {
    const text = withResource('other', other({ pathPrefix: '/other' })).replace(
      'approvalChannel: C0APPROVALS',
      'approvalChannel: C0APPROVALS\n  maxDuration: 30m',
    );
    const problems = problemsOf(refusal(text));
    expect(problems).toEqual([
      {
        path: 'defaults.maxDuration',
        message: 'defaultDuration (1h, built in) is longer than maxDuration (30m, from defaults)',
      },
    ]);
  });

  it('when the YAML is broken, then the line and column are given', () => {
    const err = refusal('defaults:\n  approvalChannel: C0APPROVALS\nresources: [\n');
    expect(err.message).toMatch(/line \d+, column \d+: YAML: /);
  });

  it('when the source is named, then the message starts with it', () => {
    expect(() => loadPolicy('resources: {}', 'policy.yml')).toThrow(
      /^policy\.yml is not a valid policy:\n {2}resources: /,
    );
  });

  it('when the file is missing, then the error says which path and how to set JITGATE_POLICY', () => {
    try {
      loadPolicyFile('/nonexistent/policy.yml');
      expect.unreachable();
    } catch (err) {
      expect(isJitgateError(err, 'policy_invalid')).toBe(true);
      expect((err as Error).message).toMatch(/\/nonexistent\/policy\.yml[\s\S]*JITGATE_POLICY/);
    }
  });
});

describe('browser: which resources take cookies', () => {
  const policy = loadPolicy(
    withGrafana({ browser: 'shared-origin' }, (t) => {
      Object.assign(t.resources as Tree, {
        api: {
          upstream: 'http://127.0.0.1:3002',
          match: { pathPrefix: '/api' },
          approvers: { users: ['U0ALICE'] },
        },
        wiki: {
          upstream: 'http://127.0.0.1:3003',
          match: { host: 'wiki.example.com' },
          approvers: { users: ['U0ALICE'] },
        },
      });
    }),
  );
  const get = (name: string) => policy.resources.get(name)!;

  it('when a pathPrefix resource says nothing, then it takes bearer tokens only; with shared-origin, or on a host, cookies too', () => {
    expect(takesBrowserCookies(get('api'))).toBe(false);
    expect(get('api').browser).toBeUndefined();
    expect(get('grafana').browser).toBe('shared-origin');
    expect(takesBrowserCookies(get('grafana'))).toBe(true);
    expect(takesBrowserCookies(get('wiki'))).toBe(true);
  });

  it('when asked where a browser opens a resource, then a host resource is on its own host and a shared-origin one under its prefix (scheme and port of the public URL); a bearer-only one has no browser URL', () => {
    expect(browserUrl(get('wiki'), 'https://access.example.com')).toBe('https://wiki.example.com/');
    expect(browserUrl(get('wiki'), 'http://127.0.0.1:8080')).toBe('http://wiki.example.com:8080/');
    expect(browserUrl(get('grafana'), 'https://access.example.com/')).toBe(
      'https://access.example.com/grafana/',
    );
    expect(browserUrl(get('api'), 'https://access.example.com')).toBeUndefined();
  });

  it('when a resource is shared-origin, then the policy warns about it (and about no other), saying what it exposes and what to do', () => {
    const warnings = policyWarnings(policy);
    expect(warnings.map((w) => w.path)).toEqual(['resources.grafana.browser']);
    expect(warnings[0]!.message).toContain("a visitor's grafana cookie");
    expect(warnings[0]!.message).toContain('Give grafana its own host instead');
  });
});

describe('loadPolicy: WebSockets are a permission of each role', () => {
  const roles = (r: Tree) => ({ roles: r });

  it('when a role says websocket: true on a resource that accepts WebSockets, then that role may open them and the others may not', () => {
    const grafana = loadPolicy(
      withGrafana({
        websocket: true,
        ...roles({
          viewer: { methods: ['GET', 'HEAD'] },
          live: { methods: ['GET'], websocket: true },
          editor: { methods: ['*'], websocket: false },
        }),
      }),
    ).resources.get('grafana')!;
    expect(grafana.roles.map((r) => [r.name, r.websocket])).toEqual([
      ['viewer', false],
      ['live', true],
      ['editor', false],
    ]);
  });

  it('when a role says websocket: true on a resource without websocket: true, then the policy is refused at the role, saying how to fix it', () => {
    for (const resourceSays of [{}, { websocket: false }]) {
      const err = refusal(
        withGrafana({ ...resourceSays, ...roles({ viewer: { methods: ['GET'], websocket: true } }) }),
      );
      expect(problemsOf(err)).toEqual([
        {
          path: 'resources.grafana.roles.viewer.websocket',
          message: expect.stringContaining('set resources.grafana.websocket: true as well'),
        },
      ]);
    }
  });

  it('when a role says websocket in a shape that is not true or false, then the policy is refused at its key path', () => {
    for (const value of ['yes', 1, null, ['GET']]) {
      const err = refusal(
        withGrafana({ websocket: true, ...roles({ viewer: { methods: ['GET'], websocket: value } }) }),
      );
      expect(problemsOf(err).map((p) => p.path)).toEqual(['resources.grafana.roles.viewer.websocket']);
    }
  });

  it('when a resource without roles accepts WebSockets, then its one role (every method, every path) may open them; without websocket: true it may not', () => {
    const on = loadPolicy(withGrafana({ websocket: true })).resources.get('grafana')!;
    expect(on.roles).toEqual([{ name: 'access', methods: ['*'], paths: ['/**'], websocket: true }]);
    const off = loadPolicy(withGrafana({})).resources.get('grafana')!;
    expect(off.roles[0]!.websocket).toBe(false);
  });

  it('when a resource accepts WebSockets but none of its named roles says websocket: true (a policy written before the setting), then every role is refused upgrades and the policy warns, naming the fix', () => {
    const policy = loadPolicy(
      withGrafana({
        websocket: true,
        ...roles({ viewer: { methods: ['GET'] }, editor: { methods: ['*'] } }),
      }),
    );
    expect(policy.resources.get('grafana')!.roles.every((r) => r.websocket === false)).toBe(true);
    const warnings = policyWarnings(policy);
    expect(warnings.map((w) => w.path)).toEqual(['resources.grafana.websocket']);
    expect(warnings[0]!.message).toContain('roles.viewer.websocket: true');
  });

  it('when a role may open WebSockets, then no warning about them', () => {
    const policy = loadPolicy(
      withGrafana({ websocket: true, ...roles({ live: { methods: ['GET'], websocket: true } }) }),
    );
    expect(policyWarnings(policy)).toEqual([]);
  });
});
