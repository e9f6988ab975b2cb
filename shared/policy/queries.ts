import { errorFor } from '../errors.js';
import type { SlackUserId } from '../ids.js';
import type { People, Policy, Resource, UsergroupLookup } from './types.js';

/**
 * The resource named (case-insensitive), or `no_such_resource` listing those that exist.
 *
 * @example getResource(policy, 'grafana').maxDurationMs
 */
export function getResource(policy: Policy, name: string): Resource {
  const resource = policy.resources.get(name.toLowerCase());
  if (resource) return resource;
  throw errorFor('no_such_resource', { resource: name, known: [...policy.resources.keys()] });
}

/** True when `user` is named or is in one of the groups. A failed group lookup rejects: fail closed. */
export async function isAmong(people: People, user: SlackUserId, lookup: UsergroupLookup): Promise<boolean> {
  if (people.users.includes(user)) return true;
  const members = await Promise.all(people.usergroups.map((group) => lookup(group)));
  return members.some((m) => m.includes(user));
}

/**
 * Whether `user` may ask for `resource`: everyone when it names no `requesters`, else the users
 * and user-group members it names.
 *
 * @example if (!(await mayRequest(policy, grafana, user, lookup))) throw errorFor('not_allowed_to_request', …);
 */
export async function mayRequest(
  _policy: Policy,
  resource: Resource,
  user: SlackUserId,
  lookup: UsergroupLookup,
): Promise<boolean> {
  return resource.requesters === undefined || isAmong(resource.requesters, user, lookup);
}

/**
 * The resources `user` may ask for, in policy order (for the request modal and `/access resources`).
 *
 * @example (await requestableResources(policy, user, lookup)).map((r) => r.name) // ['grafana']
 */
export async function requestableResources(
  policy: Policy,
  user: SlackUserId,
  lookup: UsergroupLookup,
): Promise<Resource[]> {
  const resources = [...policy.resources.values()];
  const allowed = await Promise.all(resources.map((r) => mayRequest(policy, r, user, lookup)));
  return resources.filter((_, i) => allowed[i]);
}

/**
 * Everyone who may approve requests for `resource`: its users and the members of its user groups.
 *
 * @example for (const approver of await approversOf(grafana, lookup)) await nudge(approver);
 */
export async function approversOf(resource: Resource, lookup: UsergroupLookup): Promise<Set<SlackUserId>> {
  const members = await Promise.all(resource.approvers.usergroups.map((group) => lookup(group)));
  return new Set<SlackUserId>([...resource.approvers.users, ...members.flat()]);
}

/**
 * Whether `user` approves requests for `resource` (self-approval is the lifecycle's decision).
 *
 * @example await isApprover(grafana, clicker, lookup)
 */
export function isApprover(resource: Resource, user: SlackUserId, lookup: UsergroupLookup): Promise<boolean> {
  return isAmong(resource.approvers, user, lookup);
}

/**
 * Whether `user` is a jitgate admin (may revoke any grant and read the audit log).
 *
 * @example await isAdmin(policy, user, lookup)
 */
export function isAdmin(policy: Policy, user: SlackUserId, lookup: UsergroupLookup): Promise<boolean> {
  return isAmong(policy.admins, user, lookup);
}

interface Routes {
  hosts: ReadonlyMap<string, Resource>;
  prefixes: ReadonlyMap<string, Resource>;
}

// Matching runs on every proxied request: build the tables once per loaded policy.
const routeTables = new WeakMap<Policy, Routes>();

function routes(policy: Policy): Routes {
  let r = routeTables.get(policy);
  if (!r) {
    const hosts = new Map<string, Resource>();
    const prefixes = new Map<string, Resource>();
    for (const res of policy.resources.values()) {
      if ('host' in res.match) hosts.set(res.match.host.toLowerCase(), res);
      else if ('pathPrefix' in res.match) prefixes.set(res.match.pathPrefix, res);
    }
    r = { hosts, prefixes };
    routeTables.set(policy, r);
  }
  return r;
}

/** `Grafana.Example.com:8443` → `grafana.example.com`. */
function bareHost(host: string): string {
  const lower = host.trim().toLowerCase();
  const withoutPort = lower.startsWith('[')
    ? lower.slice(0, lower.indexOf(']') + 1)
    : lower.replace(/:\d*$/, '');
  return withoutPort.endsWith('.') ? withoutPort.slice(0, -1) : withoutPort;
}

/**
 * Which resource a request is for: by host (case-insensitive, port ignored) first, then by path
 * prefix on a segment boundary. The prefix is stripped; the upstream path always starts with `/`
 * and keeps the query string.
 *
 * @example
 *   matchResource(policy, 'access.example.com', '/grafana/d/x?a=1');
 *   // { resource: <grafana>, upstreamPath: '/d/x?a=1' }
 */
export function matchResource(
  policy: Policy,
  host: string | undefined,
  path: string,
): { resource: Resource; upstreamPath: string } | undefined {
  const { hosts, prefixes } = routes(policy);
  if (host !== undefined && hosts.size > 0) {
    const resource = hosts.get(bareHost(host));
    if (resource) return { resource, upstreamPath: path.startsWith('/') ? path : `/${path}` };
  }
  const q = path.indexOf('?');
  const bare = q === -1 ? path : path.slice(0, q);
  const query = q === -1 ? '' : path.slice(q);
  // Try `/a/b/c`, then `/a/b`, then `/a`: one map lookup per segment, longest prefix first.
  for (let end = bare.length; end > 0; end = bare.lastIndexOf('/', end - 1)) {
    const resource = prefixes.get(bare.slice(0, end));
    if (resource) return { resource, upstreamPath: `${bare.slice(end) || '/'}${query}` };
  }
  return undefined;
}
