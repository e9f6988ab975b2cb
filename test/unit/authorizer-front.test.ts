import { describe, expect, it } from 'vitest';
import { isOwnPath } from '../../authorizer/front.js';
import { slashTarget } from '../../authorizer/routes/prefix-slash.js';
import { policy } from './authorizer-checks-fixtures.js';

describe("the front's split between jitgate's own routes (Express) and proxied requests", () => {
  it.each([
    '/_jitgate',
    '/_jitgate/',
    '/_jitgate?x=1',
    '/_jitgate/healthz',
    '/_JITGATE/healthz',
    '/_JitGate/redeem?c=1',
  ])(
    'when the target is %j, then it is one of jitgate own routes (as Express matches them, in any case)',
    (url) => {
      expect(isOwnPath(url)).toBe(true);
    },
  );

  it.each(['/', '/_jitgat', '/_jitgatex', '/_jitgate.x', '/grafana/_jitgate', '/_jitgate%2f', '/_ji'])(
    'when the target is %j, then it is not: it goes to the gate like any proxied request',
    (url) => {
      expect(isOwnPath(url)).toBe(false);
    },
  );
});

describe('the redirect from /prefix to /prefix/', () => {
  it('when the target is a pathPrefix resource prefix exactly, then its slash, the query kept', () => {
    expect(slashTarget(policy, undefined, '/grafana')).toBe('/grafana/');
    expect(slashTarget(policy, undefined, '/grafana?x=1&y=%2F')).toBe('/grafana/?x=1&y=%2F');
  });

  it.each(['/grafana/', '/grafana/x', '/GRAFANA', '/grafanas', '/', '/nothing', '/_jitgate'])(
    'when the target is %j, then no redirect',
    (url) => {
      expect(slashTarget(policy, undefined, url)).toBeUndefined();
    },
  );

  it('when the Host names a host resource, then its path is never redirected', () => {
    expect(slashTarget(policy, 'wiki.access.test', '/grafana')).toBeUndefined();
  });
});
