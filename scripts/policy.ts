/**
 * `npm run policy -- check [file]` validates a policy file and prints every problem with its key path;
 * `npm run policy -- explain <resource> [--file f]` says who may request it, who approves, and its limits.
 * Exit codes: 0 fine (warnings, on stderr, do not change that), 1 the policy is invalid or the
 * resource unknown, 2 bad usage.
 */
import { formatDuration } from '../shared/duration.js';
import { isJitgateError } from '../shared/errors.js';
import {
  describeAutoApprove,
  getResource,
  loadPolicyFile,
  policyWarnings,
  takesBrowserCookies,
} from '../shared/policy/index.js';
import type { People, Policy, Resource } from '../shared/policy/types.js';
import { type CliIo, runWhenEntry } from './cli.js';

const USAGE = `usage: npm run policy -- check [file]
       npm run policy -- explain <resource> [--file <file>]
The file defaults to $JITGATE_POLICY, else ./policy.yml.`;

const defaultFile = (io: CliIo) => io.env.JITGATE_POLICY || './policy.yml';

function people(p: People | undefined, nobody: string): string {
  if (!p) return nobody;
  const names = [
    ...p.users.map((u) => `<@${u}>`),
    ...p.usergroups.map((g) => `<!subteam^${g}> (Slack user group)`),
  ];
  return names.length > 0 ? names.join(', ') : nobody;
}

function browserUse(resource: Resource): string {
  if ('database' in resource.match) return 'the PostgreSQL gateway (the access token is the password)';
  if ('host' in resource.match) return 'cookies on its own host (after a redeem in the browser)';
  return takesBrowserCookies(resource)
    ? "cookies on the authorizer's shared origin (browser: shared-origin): a page on any other shared-origin resource can use them"
    : 'bearer tokens only (no browser cookies on the shared origin; give it its own host for browsers)';
}

function webSockets(resource: Resource): string {
  if (!resource.websocket) return 'refused (the resource does not accept them)';
  const roles = resource.roles.filter((r) => r.websocket).map((r) => r.name);
  return roles.length > 0
    ? `allowed for ${roles.join(', ')} (a role opens them only with websocket: true)`
    : "refused: no role has websocket: true (a role's methods do not imply it)";
}

export function explain(policy: Policy, resource: Resource): string {
  const match =
    'pathPrefix' in resource.match
      ? `path prefix ${resource.match.pathPrefix}`
      : 'host' in resource.match
        ? `host ${resource.match.host}`
        : `database name ${resource.match.database} at the PostgreSQL gateway`;
  const lines = [
    `${resource.name}: ${resource.description || '(no description)'}`,
    `  routed by     ${match} → ${resource.upstream}`,
    `  requested by  ${people(resource.requesters, 'anyone in the workspace')}`,
    `  approved by   ${people(resource.approvers, 'nobody (no request can be approved)')}`,
    `  approvals     ${resource.approvalsRequired} distinct approver(s); self-approval ${resource.selfApproval ? 'allowed' : 'not allowed'}${resource.approverStepUp ? '; each confirmed in the browser with a fresh sign-in (approverStepUp)' : ''}`,
    `  posted to     ${resource.approvalChannel}`,
    `  duration      default ${formatDuration(resource.defaultDurationMs)}, at most ${formatDuration(resource.maxDurationMs)}`,
    `  undecided     nudge after ${formatDuration(resource.nudgeAfterMs)}, ${resource.escalation ? `escalated to ${people(resource.escalation.to, 'nobody')} after ${formatDuration(resource.escalation.afterMs)}, ` : ''}expires after ${formatDuration(resource.pendingTimeoutMs)}`,
    `  reminder      ${formatDuration(resource.reminderBeforeMs)} before expiry`,
    `  reason        ${resource.reasonPattern === undefined ? 'any (required, at most 500 characters)' : `must match ${resource.reasonPattern} (the matched ticket id goes into the audit events)`}`,
    `  limits        at most ${resource.maxPendingRequests} undecided request(s) per person, ${resource.maxPendingPerResource} for this resource, one extension per grant`,
    `  e-mail        ${resource.requireEmail ? 'required (a person Slack has no e-mail for cannot request)' : 'optional (a grant without one sends no X-JIT-Email)'}`,
    `  roles         ${resource.roles.map((r) => (r.db ? `${r.name} (login ${r.db.user}${r.db.readOnly ? ', read-only' : ''})` : `${r.name} (${r.methods.join(' ')} on ${r.paths.join(' ')}${r.websocket ? '; WebSockets' : ''})`)).join('; ')}`,
    `  networks      ${resource.networks.length > 0 ? resource.networks.join(', ') : 'any address'}`,
    `  websocket     ${webSockets(resource)}`,
    `  browser       ${browserUse(resource)}`,
    `  break-glass   ${resource.breakGlass ? 'allowed (--break-glass grants at once and posts loudly)' : 'not allowed'}`,
    `  auto-approve  ${describeAutoApprove(resource.autoApprove, (p) => people(p, ''))}`,
    `  admins        ${people(policy.admins, 'nobody')} (may revoke any grant)`,
    `  to request    /access ${resource.name}/${resource.roles[0]?.name ?? 'access'} ${formatDuration(resource.defaultDurationMs)} <reason>`,
  ];
  return `${lines.join('\n')}\n`;
}

/** `npm run policy -- <argv>`: answers the exit code. */
export function run(argv: string[], io: CliIo): number {
  try {
    return runCommand(argv, io);
  } catch (err) {
    io.stderr(`${isJitgateError(err) ? err.message : String(err)}\n`);
    return 1;
  }
}

function runCommand(argv: string[], io: CliIo): number {
  const usage = (problem: string) => {
    io.stderr(`${problem}\n${USAGE}\n`);
    return 2;
  };
  const [command, ...rest] = argv;
  if (command === 'check') {
    if (rest.length > 1) return usage(`unexpected arguments: ${rest.slice(1).join(' ')}`);
    const file = rest[0] ?? defaultFile(io);
    const policy = loadPolicyFile(file);
    const names = [...policy.resources.keys()];
    io.stdout(`${file}: valid, ${names.length} resource(s): ${names.join(', ')}
`);
    for (const w of policyWarnings(policy))
      io.stderr(`warning: ${w.path}: ${w.message}
`);
    return 0;
  }
  if (command === 'explain') {
    const name = rest[0];
    if (!name || name.startsWith('--')) return usage('explain needs a resource name');
    let file = defaultFile(io);
    if (rest.length === 3 && rest[1] === '--file') file = rest[2]!;
    else if (rest.length !== 1) return usage(`unexpected arguments: ${rest.slice(1).join(' ')}`);
    const policy = loadPolicyFile(file);
    io.stdout(explain(policy, getResource(policy, name)));
    return 0;
  }
  return usage(command ? `unknown command "${command}"` : 'no command given');
}

runWhenEntry(import.meta.url, run);
