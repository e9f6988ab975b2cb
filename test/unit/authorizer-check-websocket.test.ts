import { describe, expect, it } from 'vitest';
import { roleCheck } from '../../authorizer/checks/role.js';
import { websocketCheck } from '../../authorizer/checks/websocket.js';
import { statusFor } from '../../authorizer/refusals.js';
import { loadPolicy } from '../../shared/policy/index.js';
import { attempt } from './authorizer-checks-fixtures.js';

const policy = loadPolicy(`
defaults: { approvalChannel: C0APPROVALS, defaultDuration: 1h }
resources:
  grafana:
    upstream: http://127.0.0.1:3001
    match: { pathPrefix: /grafana }
    approvers: { users: [U0BOSS] }
    websocket: true
    roles:
      viewer: { methods: [GET, HEAD] }
      admin: { methods: ["*"] }
      live: { methods: [GET], paths: ["/api/live/**"], websocket: true }
  open:
    upstream: http://127.0.0.1:3002
    match: { pathPrefix: /open }
    approvers: { users: [U0BOSS] }
    websocket: true
`);
const grafana = policy.resources.get('grafana')!;
const open = policy.resources.get('open')!;

/** An upgrade (or a plain GET) that passed route, token and grant, holding `roleName`. */
function holding(roleName: string, upstreamPath: string, websocket = true, resource = grafana) {
  return attempt({ resource, upstreamPath, roleName, websocket, method: 'GET' });
}

/** Role, then websocket, as the HTTP list runs them. */
const judge = (ctx: ReturnType<typeof holding>) => roleCheck(ctx) ?? websocketCheck(ctx);

describe('the websocket check', () => {
  it('when a role limited to GET and HEAD asks for an upgrade (a GET), then method_not_allowed (403) naming the role, with a role that may open WebSockets as hint', () => {
    const refused = judge(holding('viewer', '/api/live/ws'));
    expect(refused).toMatchObject({
      code: 'method_not_allowed',
      message: 'Your viewer role does not allow WebSocket connections.',
      hint: '/access grafana/live 1h <reason>',
    });
    expect(statusFor(refused!.code)).toBe(403);
  });

  it('when a role with every method but no websocket: true asks for an upgrade, then it is refused too: methods never imply WebSockets', () => {
    expect(judge(holding('admin', '/api/live/ws'))?.code).toBe('method_not_allowed');
    expect(judge(holding('admin', '/'))?.code).toBe('method_not_allowed');
  });

  it('when a role says websocket: true, then its upgrades pass, on its paths only', () => {
    expect(judge(holding('live', '/api/live/ws'))).toBeUndefined();
    // The role check still judges the path: websocket: true is not a way around it.
    expect(judge(holding('live', '/api/dashboards'))?.message).toBe(
      'Your live role does not allow GET on this path.',
    );
  });

  it('when the request is not an upgrade, then the websocket check lets every role through', () => {
    for (const role of ['viewer', 'admin'])
      expect(judge(holding(role, '/api/live/ws', false))).toBeUndefined();
  });

  it('when a resource without roles accepts WebSockets, then its one role may open them', () => {
    expect(judge(holding('access', '/socket', true, open))).toBeUndefined();
  });

  it('when no role may open WebSockets, then the hint says so instead of naming a role', () => {
    const none = loadPolicy(`
defaults: { approvalChannel: C0APPROVALS }
resources:
  grafana:
    upstream: http://127.0.0.1:3001
    match: { pathPrefix: /grafana }
    approvers: { users: [U0BOSS] }
    websocket: true
    roles: { viewer: { methods: [GET] } }
`).resources.get('grafana')!;
    expect(judge(holding('viewer', '/', true, none))?.hint).toBe(
      'No role of grafana allows this; ask its approvers (/access resources).',
    );
  });

  it('when the check runs before the role check, then it refuses as a wiring mistake rather than allow', () => {
    expect(websocketCheck(attempt({ websocket: true }))?.code).toBe('internal_error');
    expect(websocketCheck(attempt({ websocket: true, resource: grafana, upstreamPath: '/' }))?.code).toBe(
      'internal_error',
    );
  });
});
