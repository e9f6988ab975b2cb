import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { isJitgateError } from '../../shared/errors.js';
import { loadPolicy, matchResource } from '../../shared/policy/index.js';
import { countFigures, fuzzRuns } from './figures.js';

countFigures('attack');

const valid = {
  defaults: { approvalChannel: 'C0APPROVALS' },
  resources: {
    grafana: {
      upstream: 'http://127.0.0.1:3001',
      match: { pathPrefix: '/grafana' },
      approvers: { users: ['U0ALICE'] },
    },
  },
};

/** Any JSON-like value, to put where the policy expects something specific. */
const junk = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.string(), { maxKeys: 3 }),
);
const paths = [
  ['defaults', 'approvalChannel'],
  ['defaults', 'maxDuration'],
  ['defaults', 'approvalsRequired'],
  ['resources', 'grafana', 'upstream'],
  ['resources', 'grafana', 'match'],
  ['resources', 'grafana', 'match', 'pathPrefix'],
  ['resources', 'grafana', 'approvers'],
  ['resources', 'grafana', 'approvers', 'users'],
  ['resources', 'grafana', 'networks'],
  ['resources', 'grafana', 'roles'],
  ['resources', 'grafana', 'maxDuration'],
  ['resources', 'grafana', 'websocket'],
  ['admins'],
  ['resources'],
];

function setPath(obj: Record<string, unknown>, path: string[], value: unknown): Record<string, unknown> {
  const copy = structuredClone(obj);
  let at: Record<string, unknown> = copy;
  for (const key of path.slice(0, -1)) {
    if (typeof at[key] !== 'object' || at[key] === null) at[key] = {};
    at = at[key] as Record<string, unknown>;
  }
  at[path.at(-1)!] = value;
  return copy;
}

describe('fuzzing the policy loader', () => {
  it('when any key holds any value, then the loader either accepts it or throws policy_invalid naming a path', () => {
    fc.assert(
      fc.property(fc.constantFrom(...paths), junk, (path, value) => {
        const text = stringify(setPath(valid, path, value));
        try {
          const policy = loadPolicy(text);
          // Whatever it accepted must be usable: routing never throws.
          matchResource(policy, 'example.com', '/grafana/x');
          return true;
        } catch (err) {
          return isJitgateError(err, 'policy_invalid') && /\S+: /.test(err.message);
        }
      }),
      { numRuns: fuzzRuns(400) },
    );
  });

  it('when the text is arbitrary, then the loader never throws anything but policy_invalid', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        try {
          loadPolicy(text);
          return false; // nothing random is a whole valid policy
        } catch (err) {
          return isJitgateError(err, 'policy_invalid');
        }
      }),
      { numRuns: fuzzRuns(300) },
    );
  });

  it('when a path prefix is random, then an accepted one is always safe to route on', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), (prefix) => {
        try {
          loadPolicy(stringify(setPath(valid, ['resources', 'grafana', 'match', 'pathPrefix'], prefix)));
        } catch {
          return true;
        }
        expect(prefix.startsWith('/')).toBe(true);
        expect(prefix).not.toMatch(/\.\.|%|\\|\/\/|\/$|^\/_jitgate/);
        return true;
      }),
      { numRuns: fuzzRuns(300) },
    );
  });
});
