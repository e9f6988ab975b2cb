import { formatDuration } from '../duration.js';
import { JitgateError } from '../errors.js';
import type { SlackUserId } from '../ids.js';
import type { People, Policy, Resource, Role, UsergroupLookup } from './types.js';

/** The resource named, or `no_such_resource` listing those that exist. */
export function getResource(policy: Policy, name: string): Resource {
  const resource = policy.resources.get(name.toLowerCase());
  if (resource) return resource;
  const known = [...policy.resources.keys()].join(', ');
  throw new JitgateError(
    'no_such_resource',
    `There is no resource "${name}". Known resources: ${known}. See /access resources.`,
    { resource: name },
  );
}

/** The role named, or the resource's first role; `no_such_role` lists the roles. */
export function resolveRole(resource: Resource, roleName?: string): Role {
  if (roleName === undefined || roleName === '') return resource.roles[0]!;
  const role = resource.roles.find((r) => r.name === roleName.toLowerCase());
  if (role) return role;
  throw new JitgateError(
    'no_such_role',
    `${resource.name} has no role "${roleName}". Its roles: ${resource.roles.map((r) => r.name).join(', ')}.`,
    { resource: resource.name, role: roleName },
  );
}

/** The duration to grant: the default when none was asked for; `duration_too_long` above the maximum. */
export function checkDuration(resource: Resource, ms?: number): number {
  const wanted = ms ?? resource.defaultDurationMs;
  if (wanted > resource.maxDurationMs) {
    throw new JitgateError(
      'duration_too_long',
      `${resource.name} allows at most ${formatDuration(resource.maxDurationMs)}; you asked for ${formatDuration(wanted)}. ` +
        `Try: /access ${resource.name} ${formatDuration(resource.maxDurationMs)} <reason>`,
      { resource: resource.name, maxMs: resource.maxDurationMs },
    );
  }
  return wanted;
}

async function isAmong(people: People, user: SlackUserId, lookup: UsergroupLookup): Promise<boolean> {
  if (people.users.includes(user)) return true;
  for (const group of people.usergroups) {
    if ((await lookup(group)).includes(user)) return true;
  }
  return false;
}

export async function mayRequest(
  _policy: Policy,
  resource: Resource,
  user: SlackUserId,
  lookup: UsergroupLookup,
): Promise<boolean> {
  return resource.requesters === undefined || isAmong(resource.requesters, user, lookup);
}

export async function requestableResources(
  policy: Policy,
  user: SlackUserId,
  lookup: UsergroupLookup,
): Promise<Resource[]> {
  const out: Resource[] = [];
  for (const r of policy.resources.values()) if (await mayRequest(policy, r, user, lookup)) out.push(r);
  return out;
}

export async function approversOf(resource: Resource, lookup: UsergroupLookup): Promise<Set<SlackUserId>> {
  const all = new Set<SlackUserId>(resource.approvers.users);
  for (const group of resource.approvers.usergroups) for (const u of await lookup(group)) all.add(u);
  return all;
}

export function isApprover(resource: Resource, user: SlackUserId, lookup: UsergroupLookup): Promise<boolean> {
  return isAmong(resource.approvers, user, lookup);
}

export function isAdmin(policy: Policy, user: SlackUserId, lookup: UsergroupLookup): Promise<boolean> {
  return isAmong(policy.admins, user, lookup);
}

export function isAutoApproved(resource: Resource, user: SlackUserId): boolean {
  return resource.autoApprove.users.includes(user);
}

interface Routes {
  hosts: Map<string, Resource>;
  /** Longest prefix first. */
  prefixes: [string, Resource][];
}
const routesOf = new WeakMap<Policy, Routes>();

function routes(policy: Policy): Routes {
  let r = routesOf.get(policy);
  if (!r) {
    r = { hosts: new Map(), prefixes: [] };
    for (const res of policy.resources.values()) {
      if ('host' in res.match) r.hosts.set(res.match.host, res);
      else r.prefixes.push([res.match.pathPrefix, res]);
    }
    r.prefixes.sort((a, b) => b[0].length - a[0].length);
    routesOf.set(policy, r);
  }
  return r;
}

/**
 * Which resource a request is for: by host (case-insensitive, port ignored) first, then by path
 * prefix on a segment boundary. The prefix is stripped; the upstream path always starts with `/`.
 *
 * @example matchResource(policy, 'access.example.com', '/grafana/d/x?a=1') // { resource: grafana, upstreamPath: '/d/x?a=1' }
 */
export function matchResource(
  policy: Policy,
  host: string | undefined,
  path: string,
): { resource: Resource; upstreamPath: string } | undefined {
  const r = routes(policy);
  if (host && r.hosts.size > 0) {
    const bare = host.toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
    const byHost = r.hosts.get(bare);
    if (byHost) return { resource: byHost, upstreamPath: path.startsWith('/') ? path : `/${path}` };
  }
  for (const [prefix, resource] of r.prefixes) {
    if (!path.startsWith(prefix)) continue;
    const rest = path.slice(prefix.length);
    if (rest === '') return { resource, upstreamPath: '/' };
    if (rest[0] === '/') return { resource, upstreamPath: rest };
    if (rest[0] === '?') return { resource, upstreamPath: `/${rest}` };
  }
  return undefined;
}
