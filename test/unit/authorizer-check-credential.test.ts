import { describe, expect, it } from 'vitest';
import { credentialCheck } from '../../authorizer/checks/credential.js';
import { api, attempt, routed, wiki } from './authorizer-checks-fixtures.js';

describe('the credential check (HTTP)', () => {
  it('when an Authorization: Bearer header is sent, then its token is the credential, found in the header', () => {
    const ctx = routed({ authorization: 'Bearer abc.def.ghi' });
    expect(credentialCheck(ctx)).toBeUndefined();
    expect(ctx.token).toBe('abc.def.ghi');
    expect(ctx.tokenFrom).toBe('bearer');
  });

  it("when both a bearer token and the resource's cookie are sent, then the bearer token wins", () => {
    const ctx = routed({ authorization: 'Bearer from-header', cookies: 'jitgate_grafana=from-cookie' });
    credentialCheck(ctx);
    expect(ctx.token).toBe('from-header');
    expect(ctx.tokenFrom).toBe('bearer');
  });

  it("when only the resource's cookie is sent, then its value is the credential, found in a cookie", () => {
    const ctx = routed({ cookies: 'theme=dark; jitgate_grafana=from-cookie; x=1' });
    expect(credentialCheck(ctx)).toBeUndefined();
    expect(ctx.token).toBe('from-cookie');
    expect(ctx.tokenFrom).toBe('cookie');
  });

  it("when the Authorization header is not a bearer token, then the resource's cookie is still looked at", () => {
    const ctx = routed({ authorization: 'Basic dXNlcjpwdw==', cookies: 'jitgate_grafana=from-cookie' });
    credentialCheck(ctx);
    expect(ctx.token).toBe('from-cookie');
  });

  it("when only another resource's cookie is sent, then there is no credential and the check leaves it to the token check", () => {
    const ctx = routed({ cookies: 'jitgate_wiki=not-for-grafana' });
    expect(credentialCheck(ctx)).toBeUndefined();
    expect(ctx.token).toBeUndefined();
    expect(ctx.tokenFrom).toBeUndefined();
  });

  it('when a bearer-only resource (pathPrefix, no browser: shared-origin) gets its own cookie, then token_missing says it takes bearer tokens only', () => {
    const ctx = routed({ resource: api, target: '/api/x', upstreamPath: '/x', cookies: 'jitgate_api=a.b.c' });
    const refused = credentialCheck(ctx);
    expect(refused?.code).toBe('token_missing');
    expect(refused?.message).toBe('api does not accept browser cookies, only bearer tokens.');
    expect(refused?.hint).toContain('api takes bearer tokens only: send Authorization: Bearer <token>');
    expect(refused?.hint).toContain('/access api/access 2h <reason>');
    expect(ctx.token).toBeUndefined();
  });

  it('when a bearer-only resource gets a bearer token beside its cookie, then the bearer token is the credential', () => {
    const ctx = routed({ resource: api, authorization: 'Bearer from-header', cookies: 'jitgate_api=a.b.c' });
    expect(credentialCheck(ctx)).toBeUndefined();
    expect(ctx.token).toBe('from-header');
  });

  it('when a host resource gets its cookie, then it is the credential (a host is an origin of its own)', () => {
    const ctx = routed({ resource: wiki, host: 'wiki.access.test', target: '/', cookies: 'jitgate_wiki=w' });
    expect(credentialCheck(ctx)).toBeUndefined();
    expect(ctx.token).toBe('w');
  });

  it('when the query string names a token, then token_invalid says so, even with a good bearer header', () => {
    const ctx = routed({ target: '/grafana/d?Access_Token=x', authorization: 'Bearer abc' });
    expect(credentialCheck(ctx)).toEqual({
      code: 'token_invalid',
      message: 'Tokens in the query string are not accepted.',
      hint: 'Send the token in an Authorization: Bearer header instead (never in a URL: URLs end up in logs and Referer headers).',
    });
    expect(ctx.token).toBeUndefined();
  });

  it('when it runs before any route check, then it refuses (internal_error) rather than guess a cookie', () => {
    const ctx = attempt({ authorization: 'Bearer abc' });
    expect(credentialCheck(ctx)?.code).toBe('internal_error');
    expect(ctx.token).toBeUndefined();
  });
});
