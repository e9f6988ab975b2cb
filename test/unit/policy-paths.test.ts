import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { roleAllows } from '../../shared/policy/index.js';

const role = (methods: string[], paths: string[]) => ({ name: 'r', methods, paths });
const segment = fc.stringMatching(/^[a-zA-Z0-9_-]{1,8}$/);
const path = fc.array(segment, { minLength: 0, maxLength: 6 }).map((s) => `/${s.join('/')}`);

describe('roleAllows', () => {
  it.each([
    [['GET'], ['/**'], 'GET', '/anything/at/all', true],
    [['GET'], ['/**'], 'get', '/', true],
    [['GET'], ['/**'], 'POST', '/', false],
    [['*'], ['/api/**'], 'DELETE', '/api', true],
    [['*'], ['/api/**'], 'DELETE', '/api/', true],
    [['*'], ['/api/**'], 'DELETE', '/api/v1/users', true],
    [['*'], ['/api/**'], 'GET', '/apix', false],
    [['*'], ['/api/**'], 'GET', '/', false],
    [['GET'], ['/d/*'], 'GET', '/d/abc', true],
    [['GET'], ['/d/*'], 'GET', '/d/abc/def', false],
    [['GET'], ['/d/*.json'], 'GET', '/d/x.json', true],
    [['GET'], ['/d/*.json'], 'GET', '/d/xjson', false],
    [['GET'], ['/exact'], 'GET', '/exact?q=1', true],
    [['GET'], ['/**'], 'GET', '/a/../b', false],
  ])('methods %j paths %j: %s %s → %s', (methods, paths, method, p, expected) => {
    expect(roleAllows(role(methods, paths), method, p)).toBe(expected);
  });

  it('when the glob is /**, then every normal path matches', () => {
    fc.assert(fc.property(path, (p) => roleAllows(role(['GET'], ['/**']), 'GET', p)));
  });

  it('when the glob is literal, then it matches only itself', () => {
    fc.assert(fc.property(path, path, (a, b) => roleAllows(role(['GET'], [a]), 'GET', b) === (a === b)));
  });

  it('when the glob has one *, then it never crosses a /', () => {
    fc.assert(
      fc.property(
        segment,
        segment,
        segment,
        (a, b, c) => !roleAllows(role(['GET'], [`/${a}/*`]), 'GET', `/${a}/${b}/${c}`),
      ),
    );
  });

  it('when the method is not listed, then nothing matches', () => {
    const methods = fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS');
    fc.assert(
      fc.property(
        methods,
        methods,
        path,
        (allowed, used, p) => allowed === used || !roleAllows(role([allowed], ['/**']), used, p),
      ),
    );
  });

  it('when a path has a dot segment, then it never matches', () => {
    fc.assert(
      fc.property(
        path,
        fc.constantFrom('..', '.'),
        path,
        (a, dots, b) => !roleAllows(role(['*'], ['/**']), 'GET', `${a === '/' ? '' : a}/${dots}${b}`),
      ),
    );
  });
});
