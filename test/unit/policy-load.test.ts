import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { JitgateError } from '../../shared/errors.js';
import { loadPolicy, loadPolicyFile } from '../../shared/policy/index.js';

const BASE = `
defaults: { approvalChannel: C0APPROVALS }
resources:
  grafana:
    upstream: http://127.0.0.1:3001
    match: { pathPrefix: /grafana }
    approvers: { users: [U0ALICE] }
`;

function problems(yaml: string): string {
  try {
    loadPolicy(yaml);
  } catch (err) {
    if (err instanceof JitgateError && err.code === 'policy_invalid') return err.message;
    throw err;
  }
  throw new Error('expected policy_invalid');
}

describe('loadPolicy', () => {
  it('when the example policy loads, then defaults are merged into each resource', () => {
    const policy = loadPolicyFile('policy.example.yml');
    const grafana = policy.resources.get('grafana')!;
    expect(grafana).toMatchObject({
      approvalChannel: 'C0APPROVALS',
      maxDurationMs: 4 * 3_600_000,
      defaultDurationMs: 3_600_000,
      pendingTimeoutMs: 30 * 60_000,
      approvalsRequired: 2,
      websocket: true,
      match: { pathPrefix: '/grafana' },
    });
    expect(grafana.roles.map((r) => r.name)).toEqual(['viewer', 'editor']);
    expect(grafana.roles[0]!.paths).toEqual(['/**']);
    expect(policy.resources.get('admin-api')!.match).toEqual({ host: 'admin.access.example.com' });
    expect(policy.admins.users).toEqual(['U0ADMIN']);
  });

  it('when a resource has no roles, then it gets one role for every method and path', () => {
    const policy = loadPolicy(BASE);
    expect(policy.resources.get('grafana')!.roles).toEqual([
      { name: 'access', methods: ['*'], paths: ['/**'] },
    ]);
  });

  const broken: [string, string, string][] = [
    ['unknown top-level key', `${BASE}\nextra: 1\n`, 'extra'],
    ['unknown resource key', BASE.replace('upstream:', 'colour: red\n    upstream:'), 'resources.grafana'],
    [
      'bad duration',
      BASE.replace('approvers:', 'maxDuration: 4x\n    approvers:'),
      'resources.grafana.maxDuration',
    ],
    [
      'default above max',
      BASE.replace('approvers:', 'defaultDuration: 5h\n    maxDuration: 4h\n    approvers:'),
      'resources.grafana.defaultDuration',
    ],
    [
      'approvalsRequired 0',
      BASE.replace('approvers:', 'approvalsRequired: 0\n    approvers:'),
      'resources.grafana.approvalsRequired',
    ],
    [
      'approvalsRequired above named approvers',
      BASE.replace('approvers:', 'approvalsRequired: 2\n    approvers:'),
      'resources.grafana.approvalsRequired',
    ],
    [
      'bad CIDR',
      BASE.replace('approvers:', 'networks: [10.0.0.0/8, 300.1.1.1/8]\n    approvers:'),
      'resources.grafana.networks[1]',
    ],
    ['upstream not http', BASE.replace('http://127.0.0.1:3001', 'ftp://x'), 'resources.grafana.upstream'],
    ['pathPrefix with ..', BASE.replace('/grafana', '/gra/../x'), 'resources.grafana.match'],
    ['pathPrefix reserved', BASE.replace('/grafana', '/_jitgate'), 'resources.grafana.match'],
    [
      'both host and pathPrefix',
      BASE.replace('{ pathPrefix: /grafana }', '{ pathPrefix: /grafana, host: g.example.com }'),
      'resources.grafana.match',
    ],
    [
      'duplicate path prefix',
      `${BASE}  other:\n    upstream: http://x\n    match: { pathPrefix: /grafana }\n    approvers: { users: [U0ALICE] }\n`,
      'resources.other.match.pathPrefix',
    ],
    [
      'overlapping path prefix',
      `${BASE}  other:\n    upstream: http://x\n    match: { pathPrefix: /grafana/api }\n    approvers: { users: [U0ALICE] }\n`,
      'resources.other.match.pathPrefix',
    ],
    [
      'duplicate host',
      `${BASE}  a:\n    upstream: http://x\n    match: { host: A.example.com }\n    approvers: { users: [U0ALICE] }\n  b:\n    upstream: http://x\n    match: { host: a.example.com }\n    approvers: { users: [U0ALICE] }\n`,
      'resources.b.match.host',
    ],
    ['bad user id', BASE.replace('U0ALICE', 'alice'), 'resources.grafana.approvers.users[0]'],
    [
      'bad role method',
      BASE.replace('approvers:', 'roles: { viewer: { methods: [FETCH] } }\n    approvers:'),
      'resources.grafana.roles.viewer.methods[0]',
    ],
    [
      'empty role methods',
      BASE.replace('approvers:', 'roles: { viewer: { methods: [] } }\n    approvers:'),
      'resources.grafana.roles.viewer.methods',
    ],
    [
      'no approval channel',
      BASE.replace('defaults: { approvalChannel: C0APPROVALS }', ''),
      'resources.grafana.approvalChannel',
    ],
    [
      'nudge after timeout',
      BASE.replace('approvers:', 'nudgeAfter: 1h\n    pendingTimeout: 30m\n    approvers:'),
      'resources.grafana.nudgeAfter',
    ],
    [
      'nobody approves',
      BASE.replace('approvers: { users: [U0ALICE] }', 'description: x'),
      'resources.grafana.approvers',
    ],
    ['bad resource name', BASE.replace('grafana:', 'Grafana/Prod:'), 'resources.Grafana/Prod'],
    ['YAML syntax', 'resources: [unclosed', 'line 1'],
  ];

  it.each(broken)('when the policy has %s, then the error names the key path', (_what, yaml, path) => {
    expect(problems(yaml)).toContain(path);
  });

  it('when a policy has several problems, then all are reported at once', () => {
    const yaml = BASE.replace(
      'approvers:',
      'maxDuration: nope\n    approvalsRequired: 0\n    networks: [bad]\n    approvers:',
    );
    const message = problems(yaml);
    expect(message).toContain('resources.grafana.maxDuration');
    expect(message).toContain('resources.grafana.approvalsRequired');
    expect(message).toContain('resources.grafana.networks[0]');
  });

  it('when the file is missing, then the error says which path and how to set it', () => {
    expect(() => loadPolicyFile('/nonexistent/policy.yml')).toThrow(
      /\/nonexistent\/policy\.yml[\s\S]*JITGATE_POLICY/,
    );
    expect(readFileSync('policy.example.yml', 'utf8')).toContain('C0APPROVALS');
  });
});
