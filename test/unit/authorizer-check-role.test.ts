import { describe, expect, it } from 'vitest';
import { roleCheck } from '../../authorizer/checks/role.js';
import { statusFor } from '../../authorizer/refusals.js';
import { loadPolicy } from '../../shared/policy/index.js';
import { grafana, routed } from './authorizer-checks-fixtures.js';

/** An attempt for grafana whose grant holds `roleName`. */
const holding = (roleName: string, method: string, upstreamPath: string) =>
  routed({ roleName, method, upstreamPath });

describe('the role check', () => {
  it("when the grant's role allows the method on the path, then it passes and the attempt carries that role", () => {
    const ctx = holding('editor', 'POST', '/api/dashboards');
    expect(roleCheck(ctx)).toBeUndefined();
    expect(ctx.role).toBe(grafana.roles.find((r) => r.name === 'editor'));
  });

  it('when a viewer POSTs, then method_not_allowed (403) naming role and method, with the role that would allow it as hint', () => {
    const refused = roleCheck(holding('viewer', 'POST', '/api/dashboards'));
    expect(refused).toMatchObject({
      code: 'method_not_allowed',
      message: 'Your viewer role does not allow POST on this path.',
      hint: '/access grafana/editor 2h <reason>',
    });
    expect(statusFor(refused!.code)).toBe(403);
  });

  it("when the path is outside every role's paths for that method, then the hint says no role allows it", () => {
    const refused = roleCheck(holding('editor', 'DELETE', '/admin'));
    expect(refused?.code).toBe('method_not_allowed');
    expect(refused?.hint).toBe('No role of grafana allows this; ask its approvers (/access resources).');
  });

  it("when the grant's role was removed from the policy since, then method_not_allowed says it no longer exists", () => {
    const trimmed = loadPolicy(`
defaults: { approvalChannel: C0APPROVALS }
resources:
  grafana:
    upstream: http://127.0.0.1:3001
    match: { pathPrefix: /grafana }
    approvers: { users: [U0BOSS] }
    roles:
      viewer: { methods: [GET] }
`).resources.get('grafana')!;
    const refused = roleCheck(routed({ resource: trimmed, roleName: 'editor', method: 'GET' }));
    expect(refused).toMatchObject({
      code: 'method_not_allowed',
      message: 'The editor role no longer exists for grafana.',
    });
  });

  it('when no identity check ran before it, then it refuses (internal_error) rather than judge no role', () => {
    expect(roleCheck(routed())?.code).toBe('internal_error');
  });
});
