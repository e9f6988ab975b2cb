import { describe, expect, it } from 'vitest';
import { clientResolver, networkAllows, parseAddress } from '../../authorizer/checks/client-address.js';
import { cookieValue, findToken, withoutOurCookies } from '../../authorizer/checks/credential.js';
import { hasTokenInQuery, requestTargetProblem } from '../../authorizer/checks/path.js';

describe('requestTargetProblem', () => {
  it.each([
    '/',
    '/grafana/d/abc',
    '/grafana/d/a%20b',
    '/grafana/%C3%A9t%C3%A9',
    '/grafana/?q=a%2Fb&x=..',
    '/grafana/.well-known/x',
    '/grafana/a..b/c',
    '/grafana/x.',
  ])('when the target is %s, then it passes', (url) => {
    expect(requestTargetProblem(url)).toBeUndefined();
  });

  it.each([
    ['/a/%2e%2e/b', 'encoded'],
    ['/a/%2E/b', 'encoded'],
    ['/a%2fb', 'encoded'],
    ['/a%2Fb', 'encoded'],
    ['/a%5cb', 'encoded'],
    ['/a%5Cb', 'encoded'],
    ['/a\\b', 'backslash'],
    ['/a/../b', 'segment'],
    ['/a/./b', 'segment'],
    ['/a/..', 'segment'],
    ['/..', 'segment'],
    ['/a/..;x/b', 'segment'],
    ['/a//b', '//'],
    ['//a', '//'],
    ['/a%00', 'NUL'],
    ['/a\0', 'NUL'],
    ['/a%zz', 'malformed'],
    ['/a%4', 'malformed'],
    ['/a%', 'malformed'],
    ['/a%ff', 'malformed'],
    ['http://evil/a', 'not a path'],
    ['evil.example:443', 'not a path'],
    ['*', 'not a path'],
    ['', 'not a path'],
    ['/a#frag', 'fragment'],
  ])('when the target is %s, then it is refused (%s)', (url, why) => {
    expect(requestTargetProblem(url)).toContain(why);
  });
});

describe('tokens in requests', () => {
  it.each([
    ['/a?token=x', true],
    ['/a?b=1&access_token=x', true],
    ['/a?Access_Token=x', true],
    ['/a?%74oken=x', true],
    ['/a?tokens=x', false],
    ['/a?q=token', false],
    ['/a', false],
  ])('when the target is %s, then a query token is %s', (url, found) => {
    expect(hasTokenInQuery(url)).toBe(found);
  });

  it('when both a bearer header and our cookie are present, then the bearer wins', () => {
    expect(findToken('Bearer abc', 'jitgate_app=def', 'jitgate_app')).toEqual({
      token: 'abc',
      from: 'bearer',
    });
    expect(findToken('Basic xyz', 'a=1; jitgate_app=def', 'jitgate_app')).toEqual({
      token: 'def',
      from: 'cookie',
    });
    expect(findToken(undefined, 'xjitgate_app=def', 'jitgate_app')).toBeUndefined();
  });

  it('when cookies are filtered, then only jitgate ones go', () => {
    expect(cookieValue('a=1;  b = 2 ', 'b')).toBe('2');
    expect(withoutOurCookies('a=1; jitgate_x=t; b=2')).toBe('a=1; b=2');
    expect(withoutOurCookies('jitgate_x=t')).toBeUndefined();
  });
});

describe('client addresses', () => {
  it('when an IPv4-mapped IPv6 address arrives, then it is read as IPv4', () => {
    expect(parseAddress('::ffff:10.1.2.3')?.toString()).toBe('10.1.2.3');
    expect(networkAllows(['10.0.0.0/8'], parseAddress('::ffff:10.1.2.3'))).toBe(true);
    expect(networkAllows(['fd00::/8'], parseAddress('10.1.2.3'))).toBe(false);
    expect(networkAllows([], undefined)).toBe(true);
    expect(networkAllows(['10.0.0.0/8'], undefined)).toBe(false);
  });

  it('when no proxy is trusted, then X-Forwarded-For is ignored', () => {
    const resolve = clientResolver([]);
    expect(resolve('127.0.0.1', '10.0.0.1').client?.toString()).toBe('127.0.0.1');
  });

  it('when the peer is trusted, then the right-most untrusted hop is the client', () => {
    const resolve = clientResolver(['192.168.0.0/16', '127.0.0.1']);
    expect(resolve('::ffff:127.0.0.1', '1.1.1.1, 10.0.0.5, 192.168.1.1').client?.toString()).toBe('10.0.0.5');
    expect(resolve('127.0.0.1', '192.168.1.1').client?.toString()).toBe('192.168.1.1');
    expect(resolve('127.0.0.1', 'junk').client).toBeUndefined();
    expect(resolve('127.0.0.1', '[2001:db8::1]:443').client?.toString()).toBe('2001:db8::1');
  });

  it('when a trusted proxy entry is not an address, then building the resolver fails fast', () => {
    expect(() => clientResolver(['not-an-ip'])).toThrow(/JITGATE_TRUSTED_PROXIES/);
  });
});
