import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { cookieNameOf } from '../../authorizer/checks/credential.js';
import { bindCookieName } from '../../authorizer/identity/bind.js';
import { sessionCookieName, transactionCookieName } from '../../authorizer/identity/cookies.js';
import { publicAddresses } from '../../authorizer/proxy/public-address.js';
import { ownResponseHeaders } from '../../authorizer/proxy/response-headers.js';
import { CONFIRM_COOKIE, HOLDER_COOKIE } from '../../authorizer/routes/redeem-confirm.js';
import { loadPolicy } from '../../shared/policy/index.js';

const policy = loadPolicy(`
defaults: { approvalChannel: C0APPROVALS }
resources:
  grafana:
    upstream: http://10.0.0.5:3000
    match: { pathPrefix: /grafana }
    approvers: { users: [U0BOSS] }
  wiki:
    upstream: https://wiki.internal
    match: { host: wiki.access.example.com }
    approvers: { users: [U0BOSS] }
  based:
    upstream: http://10.0.0.6:8080/app/
    match: { pathPrefix: /based }
    approvers: { users: [U0BOSS] }
`);
const addressOf = publicAddresses('https://access.example.com:8443');
const own = (name: string, headers: IncomingHttpHeaders) => {
  const resource = policy.resources.get(name)!;
  const copy = { ...headers };
  const dropped = ownResponseHeaders(copy, resource, addressOf(resource));
  return { headers: copy, dropped };
};
const locationOf = (name: string, location: string) => own(name, { location }).headers.location;

describe('ownResponseHeaders: cookies', () => {
  it("when an upstream sets jitgate's cookies in any spelling, then each is removed and the upstream's own cookies stay", () => {
    const { headers, dropped } = own('grafana', {
      'set-cookie': [
        'jitgate_wiki=planted; Path=/',
        'JITGATE_wiki=x; Path=/',
        'JitGate_Session=x',
        '  jitgate_session =x; Domain=access.example.com; Path=/',
        '__Host-jitgate_session=x; Secure; Path=/',
        '__SECURE-jitgate_login_abc=x; Secure; Path=/_jitgate/oauth2/callback',
        '__Host-__Secure-jitgate_x=1',
        'jitgate_grafana=; Max-Age=0; Path=/grafana',
        'jitgate_other=deleted; Expires=Thu, 01 Jan 1970 00:00:00 GMT',
        '=jitgate_wiki=planted; Path=/',
        'jitgate_wiki',
        '\tjitgate_wiki\t=x',
        'grafana_session=kept; Path=/; HttpOnly',
        'theme=dark',
        'not_jitgate_=kept',
      ],
    });
    expect(headers['set-cookie']).toEqual([
      'grafana_session=kept; Path=/; HttpOnly',
      'theme=dark',
      'not_jitgate_=kept',
    ]);
    expect(dropped).toHaveLength(12);
    expect(dropped.join(' ')).not.toContain('planted');
  });

  it('when an upstream sets any cookie the authorizer itself sets (access, session, login, bind, holder, confirmation; http and https names), then each is removed', () => {
    const names = [false, true].flatMap((secure) => [
      cookieNameOf('grafana'),
      sessionCookieName({ secure }),
      transactionCookieName({ secure }, 'some-state'),
      bindCookieName({ secure }),
      `${secure ? '__Host-' : ''}jitgate_logins`,
      HOLDER_COOKIE,
      CONFIRM_COOKIE,
    ]);
    const { headers, dropped } = own('grafana', { 'set-cookie': names.map((n) => `${n}=planted; Path=/`) });
    expect(headers['set-cookie']).toBeUndefined();
    expect(dropped).toHaveLength(names.length);
  });

  it('when every cookie the upstream set is ours, then no Set-Cookie is left at all', () => {
    const { headers } = own('wiki', { 'set-cookie': ['jitgate_wiki=x'] });
    expect('set-cookie' in headers).toBe(false);
  });

  it('when the upstream sets no cookie of ours, then nothing is said to have been dropped', () => {
    expect(own('wiki', { 'set-cookie': ['a=1'] }).dropped).toEqual([]);
  });
});

describe('ownResponseHeaders: redirects to the internal address', () => {
  it('when a pathPrefix upstream redirects to its own address, then the browser is sent to the public URL under the prefix, query and fragment kept', () => {
    expect(locationOf('grafana', 'http://10.0.0.5:3000/login?next=%2Fd%2Fx#top')).toBe(
      'https://access.example.com:8443/grafana/login?next=%2Fd%2Fx#top',
    );
    expect(locationOf('grafana', 'http://10.0.0.5:3000')).toBe('https://access.example.com:8443/grafana/');
    expect(locationOf('grafana', 'HTTP://10.0.0.5:3000/A')).toBe('https://access.example.com:8443/grafana/A');
    expect(locationOf('grafana', '//10.0.0.5:3000/x')).toBe('https://access.example.com:8443/grafana/x');
    expect(locationOf('grafana', '/\\10.0.0.5:3000/x')).toBe('https://access.example.com:8443/grafana/x');
    expect(locationOf('grafana', 'http://user:pw@10.0.0.5:3000/x')).toBe(
      'https://access.example.com:8443/grafana/x',
    );
  });

  it('when a host upstream redirects to its own address (default port written or not), then to the resource host on the public scheme and port', () => {
    expect(locationOf('wiki', 'https://wiki.internal/page')).toBe(
      'https://wiki.access.example.com:8443/page',
    );
    expect(locationOf('wiki', 'https://WIKI.internal:443/page')).toBe(
      'https://wiki.access.example.com:8443/page',
    );
  });

  it('when the upstream has a base path, then only URLs under it are rewritten, without it', () => {
    expect(locationOf('based', 'http://10.0.0.6:8080/app/home')).toBe(
      'https://access.example.com:8443/based/home',
    );
    expect(locationOf('based', 'http://10.0.0.6:8080/app')).toBe('https://access.example.com:8443/based/');
    expect(locationOf('based', 'http://10.0.0.6:8080/application')).toBe('http://10.0.0.6:8080/application');
    expect(locationOf('based', 'http://10.0.0.6:8080/other')).toBe('http://10.0.0.6:8080/other');
  });

  it('when the URL names another scheme, port or host, or is relative, then it is left alone', () => {
    for (const other of [
      'https://10.0.0.5:3000/x',
      'http://10.0.0.5:3001/x',
      'http://10.0.0.5/x',
      'http://10.0.0.50:3000/x',
      'http://localhost:3000/x',
      'http://10.0.0.5:3000@evil.example/x',
      'http://evil.example/?u=http://10.0.0.5:3000/',
      'https://sso.example.com/authorize?redirect_uri=http%3A%2F%2F10.0.0.5%3A3000%2F',
      '/login',
      'login',
      '?next=1',
      'http:x',
      'javascript:alert(1)',
      'http://[::1',
    ]) {
      expect(locationOf('grafana', other)).toBe(other);
    }
  });

  it('when Content-Location or Refresh name the internal address, then they are rewritten too; other headers are not touched', () => {
    const { headers } = own('grafana', {
      'content-location': 'http://10.0.0.5:3000/doc/1',
      refresh: "0; URL='http://10.0.0.5:3000/next'",
      link: '<http://10.0.0.5:3000/style.css>; rel=preload',
    });
    expect(headers['content-location']).toBe('https://access.example.com:8443/grafana/doc/1');
    expect(headers.refresh).toBe("0; URL='https://access.example.com:8443/grafana/next'");
    expect(headers.link).toBe('<http://10.0.0.5:3000/style.css>; rel=preload');
    expect(own('grafana', { refresh: '5;url=http://10.0.0.5:3000/' }).headers.refresh).toBe(
      '5;url=https://access.example.com:8443/grafana/',
    );
    expect(own('grafana', { refresh: '5' }).headers.refresh).toBe('5');
  });
});
