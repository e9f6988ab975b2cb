import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pathMatches, type Role, roleAllows } from '../../shared/policy/index.js';

const role = (methods: string[], paths: string[]): Role => ({ name: 'r', methods, paths });
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

const segment = fc.stringMatching(/^[a-zA-Z0-9_-]{1,8}$/);
/**
 * Segments that include regular-expression specials, which globs must treat literally. No `?`: in a
 * path it starts the query string, which role checks ignore (`/a?/b` is the path `/a`), so a literal
 * glob holding one is not "the same path" as the text (the fuzzer found `/~` matching `/~?/a`).
 */
const specialSegment = fc
  .string({ unit: fc.constantFrom(...'ab.+^$()[]{}|\\-_~:@!'), minLength: 1, maxLength: 6 })
  .filter((s) => s !== '.' && s !== '..');
const path = fc.array(segment, { maxLength: 6 }).map((s) => `/${s.join('/')}`);
const specialPath = fc.array(specialSegment, { minLength: 1, maxLength: 4 }).map((s) => `/${s.join('/')}`);

describe('roleAllows: examples', () => {
  it.each([
    // methods
    [['GET'], ['/**'], 'GET', '/anything/at/all', true],
    [['GET'], ['/**'], 'get', '/', true],
    [['GET'], ['/**'], 'POST', '/', false],
    [['*'], ['/**'], 'PROPFIND', '/', true],
    [['GET', 'HEAD'], ['/**'], 'head', '/x', true],
    // **
    [['*'], ['/api/**'], 'DELETE', '/api', true],
    [['*'], ['/api/**'], 'DELETE', '/api/', true],
    [['*'], ['/api/**'], 'DELETE', '/api/v1/users', true],
    [['*'], ['/api/**'], 'GET', '/apix', false],
    [['*'], ['/api/**'], 'GET', '/', false],
    [['GET'], ['/**/edit'], 'GET', '/edit', true],
    [['GET'], ['/**/edit'], 'GET', '/d/1/edit', true],
    [['GET'], ['/**/edit'], 'GET', '/d/1/editx', false],
    [['GET'], ['/a/**/z'], 'GET', '/a/z', true],
    [['GET'], ['/a/**/z'], 'GET', '/a/b/c/z', true],
    [['GET'], ['/a/**/z'], 'GET', '/az', false],
    // *
    [['GET'], ['/d/*'], 'GET', '/d/abc', true],
    [['GET'], ['/d/*'], 'GET', '/d/', false],
    [['GET'], ['/d/*'], 'GET', '/d/abc/def', false],
    [['GET'], ['/d/*/panel'], 'GET', '/d/abc/panel', true],
    [['GET'], ['/d/*.json'], 'GET', '/d/x.json', true],
    [['GET'], ['/d/*.json'], 'GET', '/d/.json', true],
    [['GET'], ['/d/*.json'], 'GET', '/d/xjson', false],
    [['GET'], ['/d/*.json'], 'GET', '/d/a/b.json', false],
    // literals, including regular-expression specials
    [['GET'], ['/exact'], 'GET', '/exact?q=1', true],
    [['GET'], ['/exact'], 'GET', '/exact/', false],
    [['GET'], ['/a.b'], 'GET', '/axb', false],
    [['GET'], ['/(x)+'], 'GET', '/(x)+', true],
    [['GET'], ['/(x)+'], 'GET', '/xx', false],
    // several globs: any one will do
    [['GET'], ['/a/**', '/b/*'], 'GET', '/b/1', true],
    [['GET'], ['/a/**', '/b/*'], 'GET', '/c', false],
    // dot segments never match
    [['GET'], ['/**'], 'GET', '/a/../b', false],
    [['GET'], ['/**'], 'GET', '/a/./b', false],
    [['GET'], ['/**'], 'GET', '/..', false],
    [['GET'], ['/a/**'], 'GET', '/a/..', false],
    [['GET'], ['/**'], 'GET', '/a..b/c', true],
  ])('methods %j, paths %j: %s %s → %s', (methods, paths, method, p, expected) => {
    expect(roleAllows(role(methods, paths), method, p)).toBe(expected);
  });

  it('when pathMatches is asked directly, then it agrees and ignores the query string', () => {
    expect(pathMatches('/api/**', '/api/v1?x=../..')).toBe(true);
    expect(pathMatches('/api/*', '/api/v1/v2')).toBe(false);
  });
});

describe('roleAllows: properties', () => {
  it('when the glob is /**, then every path matches', () => {
    fc.assert(fc.property(path, (p) => roleAllows(role(['GET'], ['/**']), 'GET', p)));
  });

  it('when the glob is literal, then it matches only itself', () => {
    fc.assert(fc.property(path, path, (a, b) => roleAllows(role(['GET'], [a]), 'GET', b) === (a === b)));
    fc.assert(
      fc.property(specialPath, specialPath, (a, b) => roleAllows(role(['GET'], [a]), 'GET', b) === (a === b)),
    );
  });

  it('when the glob has a *, then it matches one segment and never crosses a /', () => {
    fc.assert(
      fc.property(segment, segment, segment, (a, b, c) => {
        const r = role(['GET'], [`/${a}/*`]);
        return roleAllows(r, 'GET', `/${a}/${b}`) && !roleAllows(r, 'GET', `/${a}/${b}/${c}`);
      }),
    );
  });

  it('when the glob ends in /**, then it matches its base and everything below, and nothing beside it', () => {
    fc.assert(
      fc.property(path, path, segment, (baseDir, below, suffix) => {
        const base = baseDir === '/' ? '/x' : baseDir;
        const r = role(['GET'], [`${base}/**`]);
        return (
          roleAllows(r, 'GET', base) &&
          roleAllows(r, 'GET', `${base}${below}`) &&
          !roleAllows(r, 'GET', `${base}${suffix}`)
        );
      }),
    );
  });

  it('when the method is not listed, then nothing matches', () => {
    const method = fc.constantFrom(...METHODS);
    fc.assert(
      fc.property(
        fc.subarray(METHODS, { minLength: 1 }),
        method,
        path,
        (allowed, used, p) => allowed.includes(used) === roleAllows(role(allowed, ['/**']), used, p),
      ),
    );
  });

  it('when the path has a . or .. segment, then it never matches, whatever the role', () => {
    fc.assert(
      fc.property(
        path,
        fc.constantFrom('..', '.'),
        path,
        fc.constantFrom('/**', '/*/**', '/**/*'),
        (a, dots, b, glob) => !roleAllows(role(['*'], [glob]), 'GET', `${a === '/' ? '' : a}/${dots}${b}`),
      ),
    );
  });
});
