import { describe, expect, it } from 'vitest';
import { hasTokenInQuery, pathOnly, requestTargetProblem } from '../../authorizer/checks/path.js';

describe('requestTargetProblem', () => {
  it.each([
    '/',
    '/app',
    '/app/d/abc-123',
    '/app/api/v1/items?limit=10&from=now-6h',
    '/app/login?redirect=%2Fd%2Fabc', // an encoded slash in the query is an ordinary value
    '/app/search?q=a//b',
    '/app/%E2%9C%93/caf%C3%A9',
    '/app/file.txt',
    '/app/.well-known/x',
    '/app/...',
  ])('when the target is %s, then it passes', (target) => {
    expect(requestTargetProblem(target)).toBeUndefined();
  });

  it.each([
    ['/app/%2e%2e/admin', 'encoded dot'],
    ['/app/%2E%2E/admin', 'encoded dot, upper case'],
    ['/app/a%2fb', 'encoded slash'],
    ['/app/a%2Fb', 'encoded slash, upper case'],
    ['/app/a%5cb', 'encoded backslash'],
    ['/app/a%5Cb', 'encoded backslash, upper case'],
    ['/app/%252e%252e/admin', 'dot encoded twice'],
    ['/app/a\\b', 'backslash'],
    ['/app/../admin', 'dot-dot segment'],
    ['/app/./x', 'dot segment'],
    ['/app/..', 'trailing dot-dot'],
    ['/app/..;/admin', 'dot-dot with a ;param'],
    ['/app/..%3b/admin', 'dot-dot with an encoded ;param'],
    ['/app//admin', 'empty segment'],
    ['//app/x', 'leading //'],
    ['/app/%00', 'encoded NUL'],
    ['/app/x?q=%00', 'encoded NUL in the query'],
    ['/app/\u0000', 'NUL'],
    ['/app/%zz', 'malformed percent'],
    ['/app/%4', 'truncated percent'],
    ['/app/%c0%ae%c0%ae/admin', 'overlong UTF-8 dots'],
    ['http://evil.example/app', 'absolute-form'],
    ['evil.example:443', 'authority-form'],
    ['*', 'asterisk-form'],
    ['', 'empty'],
  ])('when the target is %s (%s), then it is refused', (target) => {
    expect(requestTargetProblem(target)).toBeTypeOf('string');
  });
});

describe('hasTokenInQuery', () => {
  it.each([
    '/app?token=x',
    '/app?access_token=x',
    '/app?jwt=x',
    '/app?a=1&TOKEN=x',
    '/app?%74oken=x',
    '/app?a=1;token=x',
    '/app?Access_Token=x',
  ])('when the query is %s, then a token parameter is found', (url) => {
    expect(hasTokenInQuery(url)).toBe(true);
  });

  it.each(['/app', '/app?q=token', '/app?tokens=1', '/app?csrf_token_id=1', '/app?redirect=%2F'])(
    'when the query is %s, then no token parameter is found',
    (url) => {
      expect(hasTokenInQuery(url)).toBe(false);
    },
  );
});

describe('pathOnly', () => {
  it('when a target has a query, then logs get the path alone', () => {
    expect(pathOnly('/_jitgate/redeem?code=secret')).toBe('/_jitgate/redeem');
    expect(pathOnly('/app/x')).toBe('/app/x');
  });
});
