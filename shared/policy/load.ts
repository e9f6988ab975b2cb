import { readFileSync } from 'node:fs';
import { type Document, isMap, isScalar, LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { formatDuration } from '../duration.js';
import { JitgateError } from '../errors.js';
import type { SlackUserId } from '../ids.js';
import { kindProblems, postgresRoles, postgresTarget } from './kinds.js';
import {
  check,
  DefaultsFile,
  MatchFile,
  PeopleFile,
  PolicyFile,
  type PolicyProblem,
  ResourceFile,
} from './schema.js';
import type { AutoApprove, People, Policy, Resource, Role } from './types.js';

export type { PolicyProblem };

/** What a resource gets when neither it nor `defaults` says otherwise. */
const BUILT_IN = {
  defaultDuration: 3_600_000,
  maxDuration: 8 * 3_600_000,
  pendingTimeout: 30 * 60_000,
  nudgeAfter: 10 * 60_000,
  reminderBefore: 5 * 60_000,
  reviewRemindEvery: 4 * 3_600_000,
  approvalsRequired: 1,
  selfApproval: false,
  maxPendingRequests: 5,
  maxPendingPerResource: 1,
  requireEmail: true,
};
type Match = NonNullable<ResourceFile['match']>;
type DurationKey =
  | 'defaultDuration'
  | 'maxDuration'
  | 'pendingTimeout'
  | 'nudgeAfter'
  | 'reminderBefore'
  | 'reviewRemindEvery';

const EVERYTHING: Role = { name: 'access', methods: ['*'], paths: ['/**'] };

/**
 * Parses and checks a policy, merges the defaults into each resource, and throws one `policy_invalid`
 * error listing every problem with its key path (also in `fields.problems`).
 *
 * @example
 *   const policy = loadPolicy('resources:\n  grafana: { … }', 'policy.yml');
 *   policy.resources.get('grafana')?.maxDurationMs; // 28_800_000 unless set
 */
export function loadPolicy(text: string, source?: string): Policy {
  const problems: PolicyProblem[] = [];
  const yaml = readYaml(text, problems);
  if (!yaml) return fail(problems, source);
  const { doc, data } = yaml;
  if (data === null || data === undefined) {
    problems.push({
      path: '',
      message: 'is empty: a policy names at least its resources (see policy.example.yml)',
    });
    return fail(problems, source);
  }
  check(PolicyFile, data, [], problems);
  const top: Record<string, unknown> = isRecord(data) ? data : {};
  const defaults = checkLeniently(DefaultsFile, top.defaults ?? {}, ['defaults'], problems);
  const admins = check(PeopleFile, top.admins ?? {}, ['admins'], problems);

  const parsed: [string, ResourceFile][] = [];
  const raw = isRecord(top.resources) ? top.resources : {};
  const routes: [string, Match][] = [];
  for (const [name, body] of inFileOrder(Object.entries(raw), keysInFile(doc, ['resources']))) {
    const resource = checkLeniently(ResourceFile, body, ['resources', name], problems);
    if (resource) parsed.push([name, resource]);
    // Routes are compared even for a resource with other problems; its match was checked above.
    const match = resource?.match ?? MatchFile.safeParse(isRecord(body) ? body.match : undefined).data;
    // A postgres resource takes no HTTP route (its match is reported by resolve as a key it must not have).
    const postgres = (resource?.kind ?? (isRecord(body) ? body.kind : undefined)) === 'postgres';
    if (match && !postgres) routes.push([name, match]);
  }
  const resources = new Map<string, Resource>();
  // Without readable defaults, every resource would report problems that are really the defaults'.
  if (defaults) {
    for (const [name, file] of parsed) {
      const roleOrder = keysInFile(doc, ['resources', name, 'roles']);
      resources.set(name, resolve(name, file, defaults, roleOrder, problems));
    }
  }
  checkRoutes(routes, problems);
  if (problems.length > 0 || !admins) return fail(problems, source);
  return { admins: asPeople(admins), resources };
}

/**
 * Reads and loads a policy file; the one place that reads the policy from disk.
 *
 * @example const policy = loadPolicyFile(config.JITGATE_POLICY);
 */
export function loadPolicyFile(path: string): Policy {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    const what =
      code === 'ENOENT'
        ? `There is no policy file at ${path}.`
        : `Cannot read the policy file ${path} (${code}).`;
    throw new JitgateError(
      'policy_invalid',
      `${what} Set JITGATE_POLICY to the path of your policy file; policy.example.yml is a place to start.`,
      { path, reason: code },
      { cause: err },
    );
  }
  return loadPolicy(text, path);
}

/**
 * Like `check`, but when the only fault is an unknown key the rest is still returned, so that a typo
 * does not hide the problems found by comparing settings.
 */
function checkLeniently<S extends z.ZodObject>(
  schema: S,
  value: unknown,
  at: PropertyKey[],
  problems: PolicyProblem[],
): z.output<S> | undefined {
  const checked = check(schema, value, at, problems);
  if (checked !== undefined) return checked;
  const lenient = schema.strip().safeParse(value);
  // The same shape with unknown keys dropped, so the output type is the same.
  return lenient.success ? (lenient.data as z.output<S>) : undefined;
}

function fail(problems: PolicyProblem[], source: string | undefined): never {
  const seen = new Set<string>();
  const unique = problems.filter((p) => {
    const key = `${p.path}\n${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const lines = unique.map((p) => `  ${p.path === '' ? '(top level)' : p.path}: ${p.message}`);
  const header = source ? `${source} is not a valid policy:` : 'The policy is not valid:';
  throw new JitgateError('policy_invalid', `${header}\n${lines.join('\n')}`, { problems: unique, source });
}

function readYaml(text: string, problems: PolicyProblem[]): { doc: Document; data: unknown } | undefined {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  for (const error of doc.errors) {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    problems.push({ path: `line ${line}, column ${col}`, message: `YAML: ${error.message}` });
  }
  if (problems.length > 0) return undefined;
  try {
    return { doc, data: doc.toJS() };
  } catch (err) {
    // An alias to a missing anchor, or aliases nested too deep, only show up here.
    problems.push({ path: '', message: `YAML: ${(err as Error).message}` });
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Keys of the mapping at `path` as written: a plain object would put `2:` before `b:` and `1:` first. */
function keysInFile(doc: Document, path: string[]): string[] {
  const node = doc.getIn(path, true);
  if (!isMap(node)) return [];
  return node.items.map((pair) => String(isScalar(pair.key) ? pair.key.value : pair.key));
}

function inFileOrder<T>(entries: [string, T][], order: string[]): [string, T][] {
  const rank = (key: string) => {
    const i = order.indexOf(key);
    return i === -1 ? order.length : i;
  };
  return entries
    .map((e, i) => ({ e, i }))
    .sort((a, b) => rank(a.e[0]) - rank(b.e[0]) || a.i - b.i)
    .map(({ e }) => e);
}

function asPeople(p: { users: string[]; usergroups: string[] }): People {
  return { users: p.users as SlackUserId[], usergroups: p.usergroups };
}

function resolve(
  name: string,
  raw: ResourceFile,
  defaults: DefaultsFile,
  roleOrder: string[],
  problems: PolicyProblem[],
): Resource {
  const at = `resources.${name}`;
  const ms = (key: DurationKey) => raw[key] ?? defaults[key] ?? BUILT_IN[key];
  const origin = (key: DurationKey | 'approvalsRequired') =>
    raw[key] !== undefined ? '' : defaults[key] !== undefined ? ', from defaults' : ', built in';
  const describe = (key: DurationKey) => `${key} (${formatDuration(ms(key))}${origin(key)})`;
  /** Two settings that contradict each other: blame one this resource sets, else one `defaults` sets. */
  const contradiction = (a: DurationKey, b: DurationKey, wrong: boolean, relation: string) => {
    if (!wrong) return;
    const set = (source: Partial<Record<DurationKey, number>>, prefix: string) =>
      source[a] !== undefined ? `${prefix}.${a}` : source[b] !== undefined ? `${prefix}.${b}` : undefined;
    const path = set(raw, at) ?? set(defaults, 'defaults') ?? `${at}.${a}`;
    problems.push({ path, message: `${describe(a)} ${relation} ${describe(b)}` });
  };
  contradiction(
    'defaultDuration',
    'maxDuration',
    ms('defaultDuration') > ms('maxDuration'),
    'is longer than',
  );
  contradiction(
    'nudgeAfter',
    'pendingTimeout',
    ms('nudgeAfter') >= ms('pendingTimeout'),
    'must be shorter than',
  );
  contradiction(
    'reminderBefore',
    'maxDuration',
    ms('reminderBefore') >= ms('maxDuration'),
    'must be shorter than',
  );

  const approvalsRequired = raw.approvalsRequired ?? defaults.approvalsRequired ?? BUILT_IN.approvalsRequired;
  const named = new Set(raw.approvers.users).size;
  if (raw.approvers.usergroups.length === 0 && named === 0) {
    problems.push({
      path: `${at}.approvers`,
      message: 'names nobody: list the users or usergroups who approve',
    });
  } else if (raw.approvers.usergroups.length === 0 && approvalsRequired > named) {
    problems.push({
      path: raw.approvalsRequired !== undefined ? `${at}.approvalsRequired` : `${at}.approvers`,
      message:
        `approvalsRequired is ${approvalsRequired}${origin('approvalsRequired')} but only ${named} ` +
        `${named === 1 ? 'approver is' : 'approvers are'} named and no user group: it could never be met`,
    });
  }
  if (raw.requesters && raw.requesters.users.length === 0 && raw.requesters.usergroups.length === 0) {
    problems.push({
      path: `${at}.requesters`,
      message: 'names nobody, so no one could ask for this resource; leave it out to let everyone ask',
    });
  }
  problems.push(...kindProblems(at, raw));
  if (raw.browser !== undefined && raw.match?.host !== undefined) {
    problems.push({
      path: `${at}.browser`,
      message:
        'is only for match.pathPrefix resources: a host resource already has its own origin and takes browser cookies there, so leave browser out',
    });
  }
  const approvalChannel = raw.approvalChannel ?? defaults.approvalChannel;
  if (approvalChannel === undefined) {
    problems.push({
      path: `${at}.approvalChannel`,
      message: 'is required, here or in defaults.approvalChannel',
    });
  }

  const ordered = raw.roles ? inFileOrder(Object.entries(raw.roles), roleOrder) : [];
  const postgres = raw.kind === 'postgres';
  const websocket = raw.websocket === true;
  if (!postgres) {
    for (const [roleName, r] of ordered) {
      if (r.websocket === true && !websocket) {
        problems.push({
          path: `${at}.roles.${roleName}.websocket`,
          message: `is true but ${name} does not accept WebSockets: set ${at}.websocket: true as well, or leave the role's websocket out`,
        });
      }
    }
  }
  // Without `roles`, the one role has every method on every path: it opens WebSockets wherever the
  // resource accepts them. Named roles open them only when they say `websocket: true`.
  const everything: Role = { ...EVERYTHING, websocket };
  const roles: Role[] = postgres
    ? postgresRoles(ordered)
    : ordered.length > 0
      ? ordered.map(([roleName, r]) => ({
          name: roleName,
          methods: [...new Set(r.methods ?? [])],
          paths: r.paths ?? ['/**'],
          websocket: r.websocket === true,
        }))
      : [everything];
  problems.push(...autoApproveProblems(at, raw, roles, ms('maxDuration')));
  const escalation = escalationOf(at, raw, defaults, ms('pendingTimeout'), problems);
  return {
    name,
    kind: raw.kind,
    description: raw.description,
    upstream: raw.upstream.replace(/\/+$/, ''),
    match: postgres
      ? { database: name }
      : raw.match?.pathPrefix !== undefined
        ? { pathPrefix: raw.match.pathPrefix }
        : { host: raw.match?.host ?? '' },
    ...(postgres ? { postgres: postgresTarget(raw.upstream) } : {}),
    approvers: asPeople(raw.approvers),
    requesters: raw.requesters ? asPeople(raw.requesters) : undefined,
    approvalChannel: approvalChannel ?? '',
    defaultDurationMs: ms('defaultDuration'),
    maxDurationMs: ms('maxDuration'),
    pendingTimeoutMs: ms('pendingTimeout'),
    nudgeAfterMs: ms('nudgeAfter'),
    reminderBeforeMs: ms('reminderBefore'),
    reviewRemindEveryMs: ms('reviewRemindEvery'),
    approverStepUp: raw.approverStepUp ?? defaults.approverStepUp ?? false,
    approvalsRequired,
    selfApproval: raw.selfApproval ?? defaults.selfApproval ?? BUILT_IN.selfApproval,
    maxPendingRequests: raw.maxPendingRequests ?? defaults.maxPendingRequests ?? BUILT_IN.maxPendingRequests,
    maxPendingPerResource:
      raw.maxPendingPerResource ?? defaults.maxPendingPerResource ?? BUILT_IN.maxPendingPerResource,
    requireEmail: raw.requireEmail ?? defaults.requireEmail ?? BUILT_IN.requireEmail,
    ...withReasonPattern(raw.reasonPattern ?? defaults.reasonPattern),
    ...(escalation ? { escalation } : {}),
    roles: roles.length > 0 || postgres ? roles : [everything],
    networks: raw.networks,
    websocket: raw.websocket ?? false,
    ...(raw.browser !== undefined ? { browser: raw.browser } : {}),
    breakGlass: raw.breakGlass,
    autoApprove: autoApproveOf(raw.autoApprove),
  };
}

/**
 * escalateAfter and escalateTo, from the resource or `defaults`: both or neither, someone named, and
 * the escalation before the request times out. A problem is reported where the key was set.
 */
function escalationOf(
  at: string,
  raw: ResourceFile,
  defaults: DefaultsFile,
  pendingTimeoutMs: number,
  problems: PolicyProblem[],
): Resource['escalation'] {
  const afterMs = raw.escalateAfter ?? defaults.escalateAfter;
  const to = raw.escalateTo ?? defaults.escalateTo;
  // Where a key was set; a missing one is blamed where its partner was set.
  const scope = (key: 'escalateAfter' | 'escalateTo') =>
    raw[key] !== undefined ? at : defaults[key] !== undefined ? 'defaults' : undefined;
  const where = (key: 'escalateAfter' | 'escalateTo') =>
    `${scope(key) ?? scope(key === 'escalateTo' ? 'escalateAfter' : 'escalateTo') ?? at}.${key}`;
  if (afterMs === undefined && to === undefined) return undefined;
  if (to === undefined) {
    problems.push({
      path: where('escalateTo'),
      message: `is required with escalateAfter: name the users or usergroups who get requests still undecided after ${formatDuration(afterMs!)}`,
    });
    return undefined;
  }
  if (afterMs === undefined) {
    problems.push({
      path: where('escalateAfter'),
      message: 'is required with escalateTo: say how long a request waits before it is escalated, e.g. 20m',
    });
    return undefined;
  }
  if (to.users.length === 0 && to.usergroups.length === 0) {
    problems.push({
      path: where('escalateTo'),
      message: 'names nobody: list the users or usergroups to escalate to',
    });
    return undefined;
  }
  if (afterMs >= pendingTimeoutMs) {
    problems.push({
      path: where('escalateAfter'),
      message: `(${formatDuration(afterMs)}) must be shorter than pendingTimeout (${formatDuration(pendingTimeoutMs)}): a request would time out before it is escalated`,
    });
    return undefined;
  }
  return { afterMs, to: asPeople(to) };
}

/** autoApprove's own contradictions: a role the resource lacks, a rule naming nobody, a limit that cannot limit. */
function autoApproveProblems(
  at: string,
  raw: ResourceFile,
  roles: Role[],
  maxDurationMs: number,
): PolicyProblem[] {
  const auto = raw.autoApprove;
  if (auto === undefined) return [];
  const problems: PolicyProblem[] = [];
  const here = `${at}.autoApprove`;
  const known = roles.map((r) => r.name);
  auto.roles.forEach((role, i) => {
    if (!known.includes(role))
      problems.push({
        path: `${here}.roles[${i}]`,
        message: `${role} is not a role of this resource (its roles: ${known.join(', ')})`,
      });
  });
  if (auto.users.length + auto.usergroups.length + auto.roles.length === 0) {
    problems.push({
      path: here,
      message:
        'names no users, usergroups or roles, so it would approve nothing; name them, or leave autoApprove out',
    });
  }
  if (auto.maxDuration !== undefined && auto.maxDuration >= maxDurationMs) {
    problems.push({
      path: `${here}.maxDuration`,
      message: `${formatDuration(auto.maxDuration)} is not shorter than the resource's maxDuration (${formatDuration(maxDurationMs)}), so it limits nothing; make it shorter or leave it out`,
    });
  }
  return problems;
}

function autoApproveOf(raw: ResourceFile['autoApprove']): AutoApprove {
  if (raw === undefined) return { users: [], usergroups: [], roles: [] };
  const { hours } = raw;
  return {
    users: raw.users as SlackUserId[],
    usergroups: raw.usergroups,
    roles: raw.roles,
    ...(raw.maxDuration !== undefined ? { maxDurationMs: raw.maxDuration } : {}),
    ...(hours
      ? {
          hours: {
            days: hours.days ?? ['mon', 'tue', 'wed', 'thu', 'fri'],
            fromMinute: hours.from,
            toMinute: hours.to,
            timezone: hours.timezone,
          },
        }
      : {}),
  };
}

function withReasonPattern(pattern: string | undefined): { reasonPattern?: string } {
  return pattern === undefined ? {} : { reasonPattern: pattern };
}

/** Two resources must never claim the same request: same host, same prefix, or one prefix inside another. */
function checkRoutes(routes: [string, Match][], problems: PolicyProblem[]): void {
  const seen: [string, Match][] = [];
  for (const [name, match] of routes) {
    for (const [other, theirs] of seen) {
      if (match.host !== undefined && match.host === theirs.host) {
        problems.push({
          path: `resources.${name}.match.host`,
          message: `${match.host} is already the host of ${other}`,
        });
      }
      const mine = match.pathPrefix;
      const their = theirs.pathPrefix;
      if (mine === undefined || their === undefined) continue;
      if (mine === their) {
        problems.push({
          path: `resources.${name}.match.pathPrefix`,
          message: `${mine} is already the prefix of ${other}`,
        });
      } else if (mine.startsWith(`${their}/`) || their.startsWith(`${mine}/`)) {
        problems.push({
          path: `resources.${name}.match.pathPrefix`,
          message: `${mine} and ${their} (the prefix of ${other}) overlap, so routing would be ambiguous`,
        });
      }
    }
    seen.push([name, match]);
  }
}
