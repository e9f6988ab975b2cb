import { describe, expect, it } from 'vitest';
import { routeCheck } from '../../authorizer/checks/route.js';
import { statusFor } from '../../authorizer/refusals.js';
import { loadPolicy, type Policy } from '../../shared/policy/index.js';
import { attempt, grafana, policy, wiki } from './authorizer-checks-fixtures.js';

const route = routeCheck(() => policy);

describe('the route check', () => {
  it('when the path starts with a resource prefix, then that resource is asked for and the upstream sees the rest', () => {
    const ctx = attempt({ target: '/grafana/api/x?q=1' });
    expect(route(ctx)).toBeUndefined();
    expect(ctx.resource).toBe(grafana);
    expect(ctx.upstreamPath).toBe('/api/x?q=1');
  });

  it('when the Host header names a host-routed resource, then it is routed by host with the whole path', () => {
    const ctx = attempt({ host: 'wiki.access.test:443', target: '/grafana/page' });
    expect(route(ctx)).toBeUndefined();
    expect(ctx.resource).toBe(wiki);
    expect(ctx.upstreamPath).toBe('/grafana/page');
  });

  it('when no resource matches, then no_such_resource (404) and nothing is known about the attempt', () => {
    const ctx = attempt({ target: '/grafanax/d' });
    const refused = route(ctx);
    expect(refused?.code).toBe('no_such_resource');
    expect(statusFor(refused!.code)).toBe(404);
    expect(refused?.hint).toBe('/access resources');
    expect(ctx.resource).toBeUndefined();
  });

  it('when a WebSocket upgrade asks for a resource without websocket: true, then method_not_allowed naming it, and the resource is known for the audit', () => {
    const ctx = attempt({ target: '/grafana/ws', websocket: true });
    const refused = route(ctx);
    expect(refused).toMatchObject({
      code: 'method_not_allowed',
      message: 'grafana does not accept WebSocket connections.',
    });
    expect(ctx.resource).toBe(grafana);
    expect(ctx.upstreamPath).toBe('/ws');
  });

  it('when a WebSocket upgrade asks for a resource that accepts them, then it passes', () => {
    const ctx = attempt({ target: '/live/socket', websocket: true });
    expect(route(ctx)).toBeUndefined();
    expect(ctx.resource?.name).toBe('live');
  });

  it('when the policy is reloaded, then the next attempt is routed by the new one', () => {
    let current: Policy = policy;
    const reloading = routeCheck(() => current);
    expect(reloading(attempt({ target: '/metrics/x' }))?.code).toBe('no_such_resource');
    current = loadPolicy(`
defaults: { approvalChannel: C0APPROVALS }
resources:
  metrics:
    upstream: http://127.0.0.1:3009
    match: { pathPrefix: /metrics }
    approvers: { users: [U0BOSS] }
`);
    const ctx = attempt({ target: '/metrics/x' });
    expect(reloading(ctx)).toBeUndefined();
    expect(ctx.resource?.name).toBe('metrics');
  });
});
