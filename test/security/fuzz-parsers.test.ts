import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cookieValue, findToken, withoutOurCookies } from '../../authorizer/checks/credential.js';
import { hasTokenInQuery, requestTargetProblem } from '../../authorizer/checks/path.js';
import { isCommandError, parseAccessCommand } from '../../bot/commands/parse.js';
import { formatDuration, parseDuration } from '../../shared/duration.js';
import { isJitgateError } from '../../shared/errors.js';
import { loadPolicy, matchResource, pathMatches, type Role, roleAllows } from '../../shared/policy/index.js';
import { countFigures, fuzzRuns } from './figures.js';

/**
 * Property tests of the parsers that take input from people and clients: they never throw anything
 * but their own coded error, and never accept what they should refuse.
 */
countFigures('attack');

const RUNS = 400;

/** Pieces that decoders, normalisers and routers disagree about. */
const TRICKY = [
  '.',
  '..',
  '...',
  '%2e',
  '%2E',
  '%2e%2e',
  '.%2e',
  '%252e',
  '%2f',
  '%2F',
  '%252f',
  '%5c',
  '\\',
  ';',
  '%3b',
  '..;',
  '.;x',
  '%00',
  '%',
  '%z',
  '%zz',
  '%c0%ae',
  '%e0%80%ae',
  '%u002e',
  '~',
  'a',
  'api',
  'app',
  'other',
  '%61pi',
  '%41',
  'apps',
  'app%73',
  '',
  '?',
  '?token=x',
  '#',
  '%23',
  '%3f',
  'é',
  '%C3%A9',
  '%ff',
  '*',
  '%2a',
  '+',
  ' ',
  '\t',
];
const trickySegment = fc.oneof(fc.constantFrom(...TRICKY), fc.string({ maxLength: 4 }));
const trickyPath = fc
  .tuple(fc.array(trickySegment, { maxLength: 6 }), fc.boolean())
  .map(([segments, lead]) => `${lead ? '/' : ''}${segments.join('/')}`);

/** Decodes once, or undefined when the encoding is malformed. */
function decode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

describe('Fuzzing the /access parser', () => {
  it('when the text is anything at all, then it parses or says what was wrong, and never throws', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'grapheme', maxLength: 60 })),
        (text) => {
          const parsed = parseAccessCommand(text);
          if (isCommandError(parsed)) {
            expect(parsed.error.length).toBeGreaterThan(0);
            expect(parsed.usage.length).toBeGreaterThan(0);
          }
        },
      ),
      { numRuns: fuzzRuns(RUNS) },
    );
  });

  it('when a request is accepted, then its resource and role are policy-shaped names and its duration is positive and finite', () => {
    const words = fc.array(
      fc.oneof(
        fc.constantFrom(
          'grafana',
          'Grafana/Viewer',
          'db/../admin',
          'a/b/c',
          '--break-glass',
          '—break-glass',
          '1h',
          '0s',
          '99999d',
          '1h30m',
          'INC-1',
          '<!channel>',
          '',
          '\u00a0',
          'g_aaaa',
        ),
        fc.string({ maxLength: 10 }),
      ),
      { maxLength: 6 },
    );
    fc.assert(
      fc.property(words, (ws) => {
        const parsed = parseAccessCommand(ws.join(' '));
        if (isCommandError(parsed) || parsed.kind !== 'request') return;
        expect(parsed.resource).toMatch(/^[a-z0-9][a-z0-9_-]{0,39}$/);
        if (parsed.role !== undefined) expect(parsed.role).toMatch(/^[a-z0-9][a-z0-9_-]{0,39}$/);
        expect(Number.isFinite(parsed.durationMs) && parsed.durationMs > 0).toBe(true);
        expect(parsed.reason.trim()).toBe(parsed.reason);
        expect(parsed.reason.length).toBeGreaterThan(0);
      }),
      { numRuns: fuzzRuns(RUNS) },
    );
  });

  it('when revoke, cancel or extend is accepted, then the id is exactly an id', () => {
    const id = fc.oneof(
      fc.constantFrom(
        `g_${'a'.repeat(26)}`,
        `G_${'A'.repeat(26)}`,
        `r_${'b'.repeat(26)}`,
        `g_${'a'.repeat(25)}`,
        `g_${'a'.repeat(26)}x`,
        `g_${'a'.repeat(26)}*`,
      ),
      fc.string({ maxLength: 30 }),
    );
    fc.assert(
      fc.property(
        fc.constantFrom('revoke', 'cancel', 'extend'),
        id,
        fc.string({ maxLength: 20 }),
        (sub, value, tail) => {
          const parsed = parseAccessCommand(`${sub} ${value} 1h ${tail}`);
          if (isCommandError(parsed)) return;
          if (parsed.kind === 'revoke' || parsed.kind === 'extend')
            expect(parsed.grantId).toMatch(/^g_[a-z2-7]{26}$/);
          if (parsed.kind === 'cancel') expect(parsed.requestId).toMatch(/^r_[a-z2-7]{26}$/);
        },
      ),
      { numRuns: fuzzRuns(RUNS) },
    );
  });

  it('when --break-glass appears, then only a new request can carry it', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(
          'list',
          'resources',
          'help',
          `revoke g_${'a'.repeat(26)}`,
          `extend g_${'a'.repeat(26)} 1h`,
        ),
        (prefix) => {
          const parsed = parseAccessCommand(`${prefix} --break-glass`);
          expect(!isCommandError(parsed) && parsed.kind === 'request' && parsed.breakGlass).toBe(false);
        },
      ),
      { numRuns: fuzzRuns(20) },
    );
  });
});

describe('Fuzzing the duration parser', () => {
  it('when the input is any value, then it is a positive whole number of ms or duration_invalid, nothing else', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 30 }), fc.anything()), (input) => {
        try {
          const ms = parseDuration(input as string);
          expect(Number.isSafeInteger(ms) && ms > 0).toBe(true);
        } catch (err) {
          expect(isJitgateError(err, 'duration_invalid')).toBe(true);
        }
      }),
      { numRuns: fuzzRuns(RUNS) },
    );
  });

  it('when a duration is written in units, then it parses to their sum and formats back to the same time', () => {
    const part = (max: number) => fc.option(fc.integer({ min: 0, max }), { nil: undefined });
    fc.assert(
      fc.property(part(9999), part(9999), part(99999), part(999999), (d, h, m, s) => {
        const text = `${d !== undefined ? `${d}d` : ''}${h !== undefined ? `${h}h` : ''}${m !== undefined ? `${m}m` : ''}${s !== undefined ? `${s}s` : ''}`;
        const expected = (d ?? 0) * 86_400_000 + (h ?? 0) * 3_600_000 + (m ?? 0) * 60_000 + (s ?? 0) * 1_000;
        if (expected === 0) {
          expect(() => parseDuration(text)).toThrow();
          return;
        }
        expect(parseDuration(text)).toBe(expected);
        // formatDuration writes days without a cap; up to the parser's 9999d it reads back the same.
        if (expected < 9999 * 86_400_000) expect(parseDuration(formatDuration(expected))).toBe(expected);
      }),
      { numRuns: fuzzRuns(RUNS) },
    );
  });

  it.each([
    '-1h',
    '1.5h',
    '1e3s',
    '0x10m',
    '1h 30m',
    '1 h',
    '1m1h',
    '1h1h',
    '١h',
    '１h',
    '1hh',
    'h',
    '∞h',
    'NaNs',
    '1d\n',
  ])('when the duration is %j, then it is refused', (text) => {
    if (text === '1d\n') return expect(parseDuration(text)).toBe(86_400_000); // surrounding space is trimmed
    expect(() => parseDuration(text)).toThrow(/duration|zero/);
  });
});

describe('Fuzzing token extraction', () => {
  it('when the Authorization header is anything, then a bearer token found is one whitespace- and comma-free word', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (authorization) => {
        const found = findToken(authorization, undefined, 'jitgate_app');
        if (found) {
          expect(found.from).toBe('bearer');
          expect(found.token).toMatch(/^[^\s,]+$/);
          expect(authorization.toLowerCase().startsWith('bearer ')).toBe(true);
        }
      }),
      { numRuns: fuzzRuns(RUNS) },
    );
  });

  const cookieName = fc.constantFrom(
    'jitgate_app',
    'jitgate_other',
    'jitgate_app2',
    'xjitgate_app',
    'JITGATE_APP',
    ' jitgate_app',
    'jitgate_',
    'session',
    'a',
  );
  const cookiePair = fc.tuple(cookieName, fc.stringMatching(/^[A-Za-z0-9._-]{0,12}$/));

  it('when the Cookie header holds any pairs, then the resource cookie is the first pair of exactly that name', () => {
    fc.assert(
      fc.property(
        fc.array(cookiePair, { maxLength: 6 }),
        fc.constantFrom('; ', ';', ' ;  '),
        (pairs, sep) => {
          const header = pairs.map(([n, v]) => `${n}=${v}`).join(sep);
          const first = pairs.find(([n]) => n.trim() === 'jitgate_app');
          const expected = first && first[1] !== '' ? first[1] : undefined;
          expect(cookieValue(header, 'jitgate_app')).toBe(expected);
        },
      ),
      { numRuns: fuzzRuns(RUNS) },
    );
  });

  it('when our cookies are removed, then no jitgate cookie is left for the upstream and the others stay in order', () => {
    fc.assert(
      fc.property(fc.array(cookiePair, { maxLength: 6 }), (pairs) => {
        const header = pairs.map(([n, v]) => `${n}=${v}`).join('; ');
        const kept = withoutOurCookies(header);
        const names = (kept ?? '')
          .split(';')
          .map((c) => c.trim().split('=')[0]!)
          .filter(Boolean);
        expect(names.some((n) => n.startsWith('jitgate_'))).toBe(false);
        const others = pairs.map(([n]) => n.trim()).filter((n) => !n.startsWith('jitgate_') && n !== '');
        expect(names).toEqual(others);
      }),
      { numRuns: fuzzRuns(RUNS) },
    );
  });

  it('when a token parameter is named in any case and any percent-encoding, then the query is refused', () => {
    const encodeSome = (name: string, mask: boolean[], upper: boolean[]) =>
      [...name]
        .map((ch, i) => {
          const c = upper[i] ? ch.toUpperCase() : ch;
          return mask[i] ? `%${c.charCodeAt(0).toString(16).padStart(2, '0')}` : c;
        })
        .join('');
    fc.assert(
      fc.property(
        fc.constantFrom('token', 'access_token', 'jwt'),
        fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
        fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
        fc.constantFrom('?', '?a=1&', '?a=1;', '?x&'),
        (name, mask, upper, lead) => {
          expect(hasTokenInQuery(`/app/x${lead}${encodeSome(name, mask, upper)}=abc`)).toBe(true);
        },
      ),
      { numRuns: fuzzRuns(RUNS) },
    );
  });

  it('when the query is anything, then checking it never throws', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (q) => {
        expect(typeof hasTokenInQuery(`/app/x?${q}`)).toBe('boolean');
      }),
      { numRuns: fuzzRuns(RUNS) },
    );
  });
});

describe('Fuzzing path judgement and matching', () => {
  it('when a request target is accepted, then no decoder can turn it into a dot segment, a separator or a NUL', () => {
    fc.assert(
      fc.property(fc.oneof(trickyPath, fc.string({ maxLength: 40 })), (target) => {
        if (requestTargetProblem(target) !== undefined) return;
        expect(target.startsWith('/')).toBe(true);
        expect(target.startsWith('//')).toBe(false);
        const q = target.indexOf('?');
        const path = q === -1 ? target : target.slice(0, q);
        expect(path).not.toContain('#');
        const segments = path.split('/').slice(1);
        segments.forEach((segment, i) => {
          const once = decode(segment);
          expect(once, `segment ${segment} must decode`).toBeDefined();
          for (const form of [segment, once!, decode(once!) ?? once!]) {
            const bare = form.split(';')[0]!;
            expect(['.', '..']).not.toContain(bare);
            expect(form).not.toMatch(/[/\\\0]/);
          }
          // Only the last segment may be empty (`/` or a trailing slash): never `//`.
          if (i < segments.length - 1) expect(segment).not.toBe('');
        });
      }),
      { numRuns: fuzzRuns(2 * RUNS) },
    );
  });

  const policy = loadPolicy(`
defaults: { approvalChannel: C0APPROVALS }
resources:
  app:
    upstream: http://127.0.0.1:1
    match: { pathPrefix: /app }
    approvers: { users: [U0BOSS] }
  apps:
    upstream: http://127.0.0.1:2
    match: { pathPrefix: /apps }
    approvers: { users: [U0BOSS] }
  other:
    upstream: http://127.0.0.1:3
    match: { pathPrefix: /other }
    approvers: { users: [U0BOSS] }
`);

  it('when an accepted target is routed, then the resource is the one its decoded path names, and the upstream path is the rest', () => {
    fc.assert(
      fc.property(trickyPath, (target) => {
        if (requestTargetProblem(target) !== undefined) return;
        const match = matchResource(policy, 'jitgate.example', target);
        const path = target.split('?')[0]!;
        const decoded = decode(path)!;
        const prefixes = ['/apps', '/app', '/other'];
        const named = prefixes.find((p) => decoded === p || decoded.startsWith(`${p}/`));
        const rawNamed = prefixes.find((p) => path === p || path.startsWith(`${p}/`));
        // Routing sees raw bytes: it may refuse an encoded spelling of a prefix, never route it elsewhere.
        if (match) {
          const prefix = (match.resource.match as { pathPrefix: string }).pathPrefix;
          expect(prefix).toBe(rawNamed);
          expect(prefix).toBe(named);
          expect(
            `${prefix}${match.upstreamPath === '/' && !target.startsWith(`${prefix}/`) ? '' : match.upstreamPath}`.split(
              '?',
            )[0],
          ).toBe(path === prefix ? prefix : path);
        } else {
          expect(rawNamed).toBeUndefined();
        }
      }),
      { numRuns: fuzzRuns(2 * RUNS) },
    );
  });

  /** The glob semantics as the first version wrote them, with regular expressions: the oracle. */
  function regexOracle(glob: string, path: string): boolean {
    let source = '^';
    for (const segment of glob.split('/').slice(1)) {
      if (segment === '**') source += '(?:/.*)?';
      else if (segment === '*') source += '/[^/]+';
      else
        source += `/${segment
          .split('*')
          .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
          .join('[^/]*')}`;
    }
    const bare = path.split('?')[0]!;
    if (bare.split('/').some((s) => s === '.' || s === '..')) return false;
    return new RegExp(`${source}$`).test(bare);
  }

  const globSegment = fc.constantFrom(
    '**',
    '*',
    'a',
    'b',
    'a*',
    '*b',
    'a*b',
    '*-*',
    '*.json',
    'ab',
    '(',
    '.x',
  );
  const glob = fc.array(globSegment, { minLength: 1, maxLength: 4 }).map((s) => `/${s.join('/')}`);
  const pathSegment = fc.constantFrom('a', 'b', 'ab', 'aab', 'a-b', '-', 'x.json', '', '(', '.x', 'ba');
  const smallPath = fc.array(pathSegment, { maxLength: 5 }).map((s) => `/${s.join('/')}`);

  it('when a role glob and a path are small, then the matcher agrees with the regular-expression semantics', () => {
    fc.assert(
      fc.property(glob, smallPath, (g, p) => {
        expect(pathMatches(g, p)).toBe(regexOracle(g, p));
      }),
      { numRuns: fuzzRuns(4 * RUNS) },
    );
  });

  it.each([
    ['/reports/*-*-*', `/reports/${'-'.repeat(16_000)}/x`],
    ['/a/*a*a*a*a*a*b', `/a/${'a'.repeat(16_000)}`],
    ['/**/**/**/x', `/${'a/'.repeat(4_000)}y`],
    ['/api/**/*-*-*/edit', `/api/${'-/'.repeat(2_000)}${'-'.repeat(8_000)}/view`],
  ])(
    'when the glob is %s and a grant holder sends a 16 KB path built to backtrack, then the answer is immediate',
    (g, p) => {
      const role: Role = { name: 'r', methods: ['GET'], paths: [g] };
      const started = performance.now();
      roleAllows(role, 'GET', p);
      expect(performance.now() - started).toBeLessThan(200);
    },
  );
});
