import { describe, expect, it } from 'vitest';
import { parseReturnTo, returnUrl, safePath } from '../../authorizer/identity/hosts.js';

const publicUrl = new URL('https://access.example.com');
const hosts = new Set(['access.example.com', 'grafana.example.com']);

describe('sign-in return targets', () => {
  it('when the target is a path or a URL on an allowed host, then it is kept as that host and path', () => {
    expect(parseReturnTo('/app/d/x?from=now-1h', publicUrl, hosts)).toEqual({
      host: 'access.example.com',
      path: '/app/d/x?from=now-1h',
    });
    expect(parseReturnTo('https://grafana.example.com/d/x?path=%2Fhome', publicUrl, hosts)).toEqual({
      host: 'grafana.example.com',
      path: '/d/x?path=%2Fhome',
    });
    expect(parseReturnTo('https://GRAFANA.example.com', publicUrl, hosts)).toEqual({
      host: 'grafana.example.com',
      path: '/',
    });
    expect(returnUrl(new URL('http://access.test:8080'), { host: 'grafana.test', path: '/x' })).toBe(
      'http://grafana.test:8080/x',
    );
  });

  it.each([
    ['//evil.example.com/x', 'protocol-relative'],
    ['https://evil.example.com/x', 'another host'],
    ['/\\evil.example.com', 'a backslash read as a slash'],
    ['\\\\evil.example.com', 'two backslashes'],
    ['/%2fevil.example.com', 'an encoded slash'],
    ['/%2F%2Fevil.example.com', 'encoded slashes'],
    ['/%5cevil.example.com', 'an encoded backslash'],
    ['/x/%2e%2e/y', 'encoded dots'],
    ['/x\r\nSet-Cookie: a=b', 'CR/LF'],
    ['/x%0d%0aLocation:%20https://evil', 'encoded CR/LF'],
    ['https://access.example.com@evil.example.com/', 'userinfo naming another host'],
    ['https://user:pw@access.example.com/', 'userinfo'],
    ['http://access.example.com/', 'another scheme'],
    ['https://access.example.com:8443/', 'another port'],
    ['javascript:alert(1)', 'a script URL'],
    ['https://evil.example.com#@access.example.com', 'a fragment trick'],
    ['https://access.example.com.evil.example.com/', 'a longer host'],
    ['', 'nothing'],
  ])('when the target is %j (%s), then it is refused', (raw) => {
    expect(parseReturnTo(raw, publicUrl, hosts)).toBeUndefined();
  });

  it('when a path is checked, then only a single leading slash and plain characters pass', () => {
    expect(safePath('/a/b?c=%2F')).toBe('/a/b?c=%2F');
    expect(safePath('/a/../b')).toBe('/b');
    expect(safePath('//evil')).toBeUndefined();
    expect(safePath('/a\tb')).toBeUndefined();
    expect(safePath('a/b')).toBeUndefined();
  });
});
