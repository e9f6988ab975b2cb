import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { parseDuration } from '../duration.js';
import { JitgateError } from '../errors.js';
import type { SlackUserId } from '../ids.js';
import { PolicyFile, type ResourceFile } from './schema.js';
import type { People, Policy, Resource } from './types.js';

export interface PolicyProblem {
  path: string;
  message: string;
}

const BUILT_IN = {
  defaultDuration: '1h',
  maxDuration: '8h',
  pendingTimeout: '30m',
  nudgeAfter: '10m',
  approvalsRequired: 1,
  selfApproval: false,
  reminderBefore: '5m',
};

/** `resources.grafana.networks[1]` from zod's path. */
function keyPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => {
    if (typeof key === 'number') return `${out}[${key}]`;
    return out ? `${out}.${String(key)}` : String(key);
  }, '');
}

function fail(problems: PolicyProblem[], source: string): never {
  const lines = problems.map((p) => `  ${p.path || '(top level)'}: ${p.message}`);
  throw new JitgateError('policy_invalid', `${source} is not a valid policy:\n${lines.join('\n')}`, {
    problems,
  });
}

/**
 * Parses and checks a policy, merges the defaults into each resource, and throws one `policy_invalid`
 * error that lists every problem with its key path.
 *
 * @example const policy = loadPolicy(readFileSync('policy.yml', 'utf8'));
 */
export function loadPolicy(text: string, source = 'the policy'): Policy {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    fail(
      doc.errors.map((e) => ({
        path: e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '',
        message: `YAML: ${e.message.split('\n')[0]}`,
      })),
      source,
    );
  }
  const parsed = PolicyFile.safeParse(doc.toJS() ?? {});
  if (!parsed.success) {
    fail(
      parsed.error.issues.map((i) => ({ path: keyPath(i.path), message: i.message })),
      source,
    );
  }
  const file = parsed.data;
  const problems: PolicyProblem[] = [];
  const resources = new Map<string, Resource>();
  for (const [name, raw] of Object.entries(file.resources)) {
    resources.set(name, resolve(name, raw, file.defaults, problems));
  }
  checkRoutes(resources, problems);
  if (problems.length > 0) fail(problems, source);
  return { admins: asPeople(file.admins), resources };
}

/** Reads and loads a policy file; the one place that reads it from disk. */
export function loadPolicyFile(path: string): Policy {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new JitgateError(
      'policy_invalid',
      `cannot read the policy file ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'}); ` +
        'set JITGATE_POLICY to its path, or start from policy.example.yml',
      { path },
    );
  }
  return loadPolicy(text, path);
}

function asPeople(p: { users: string[]; usergroups: string[] }): People {
  return { users: p.users as SlackUserId[], usergroups: p.usergroups };
}

function resolve(
  name: string,
  raw: ResourceFile,
  defaults: PolicyFile['defaults'],
  problems: PolicyProblem[],
): Resource {
  const at = `resources.${name}`;
  const pick = <K extends keyof typeof BUILT_IN>(key: K) => raw[key] ?? defaults[key] ?? BUILT_IN[key];
  const where = <K extends keyof typeof BUILT_IN>(key: K) =>
    raw[key] !== undefined
      ? `${at}.${key}`
      : defaults[key] !== undefined
        ? `defaults.${key}`
        : `${at}.${key}`;
  const ms = (key: 'defaultDuration' | 'maxDuration' | 'pendingTimeout' | 'nudgeAfter' | 'reminderBefore') =>
    parseDuration(String(pick(key)));

  const approvalChannel = raw.approvalChannel ?? defaults.approvalChannel;
  if (!approvalChannel) {
    problems.push({
      path: `${at}.approvalChannel`,
      message: 'no approval channel: set it here or in defaults.approvalChannel',
    });
  }
  const resource: Resource = {
    name,
    description: raw.description,
    upstream: raw.upstream.replace(/\/+$/, ''),
    match:
      'pathPrefix' in raw.match
        ? { pathPrefix: raw.match.pathPrefix }
        : { host: raw.match.host.toLowerCase() },
    approvers: asPeople(raw.approvers),
    requesters: raw.requesters ? asPeople(raw.requesters) : undefined,
    approvalChannel: approvalChannel ?? '',
    defaultDurationMs: ms('defaultDuration'),
    maxDurationMs: ms('maxDuration'),
    pendingTimeoutMs: ms('pendingTimeout'),
    nudgeAfterMs: ms('nudgeAfter'),
    reminderBeforeMs: ms('reminderBefore'),
    approvalsRequired: Number(pick('approvalsRequired')),
    selfApproval: Boolean(pick('selfApproval')),
    roles: raw.roles
      ? Object.entries(raw.roles).map(([roleName, r]) => ({
          name: roleName,
          methods: r.methods,
          paths: r.paths,
        }))
      : [{ name: 'access', methods: ['*'], paths: ['/**'] }],
    networks: raw.networks,
    websocket: raw.websocket,
    breakGlass: raw.breakGlass,
    autoApprove: { users: raw.autoApprove.users as SlackUserId[], usergroups: [] },
  };
  if (resource.defaultDurationMs > resource.maxDurationMs) {
    problems.push({
      path: where('defaultDuration'),
      message: `is longer than maxDuration (${pick('maxDuration')})`,
    });
  }
  if (resource.nudgeAfterMs >= resource.pendingTimeoutMs) {
    problems.push({
      path: where('nudgeAfter'),
      message: `must be shorter than pendingTimeout (${pick('pendingTimeout')})`,
    });
  }
  if (resource.reminderBeforeMs >= resource.maxDurationMs) {
    problems.push({
      path: where('reminderBefore'),
      message: `must be shorter than maxDuration (${pick('maxDuration')})`,
    });
  }
  const { users, usergroups } = resource.approvers;
  if (
    users.length === 0 &&
    usergroups.length === 0 &&
    resource.autoApprove.users.length === 0 &&
    !resource.breakGlass
  ) {
    problems.push({ path: `${at}.approvers`, message: 'nobody can approve: name users or usergroups' });
  } else if (usergroups.length === 0 && users.length > 0 && resource.approvalsRequired > users.length) {
    problems.push({
      path: where('approvalsRequired'),
      message: `needs ${resource.approvalsRequired} approvers but only ${users.length} are named; it could never be met`,
    });
  }
  return resource;
}

function checkRoutes(resources: Map<string, Resource>, problems: PolicyProblem[]): void {
  const prefixes: [string, string][] = [];
  const hosts = new Map<string, string>();
  for (const r of resources.values()) {
    if ('host' in r.match) {
      const other = hosts.get(r.match.host);
      if (other)
        problems.push({
          path: `resources.${r.name}.match.host`,
          message: `${r.match.host} is already used by ${other}`,
        });
      else hosts.set(r.match.host, r.name);
      continue;
    }
    const mine = r.match.pathPrefix;
    for (const [otherName, other] of prefixes) {
      if (other === mine) {
        problems.push({
          path: `resources.${r.name}.match.pathPrefix`,
          message: `${mine} is already used by ${otherName}`,
        });
      } else if (mine.startsWith(`${other}/`) || other.startsWith(`${mine}/`)) {
        problems.push({
          path: `resources.${r.name}.match.pathPrefix`,
          message: `${mine} and ${other} (${otherName}) overlap; routing would be ambiguous`,
        });
      }
    }
    prefixes.push([r.name, mine]);
  }
}
