/**
 * The policy: who may ask for which resource, who approves, for how long, and how requests are
 * routed and checked. `loadPolicy`/`loadPolicyFile` read it; everything else is a pure question
 * about a loaded policy (user-group membership comes from an injected lookup).
 */

export { type AutoApproveAsk, describeAutoApprove, inWorkingHours, isAutoApproved } from './auto-approve.js';
export { browserUrl, policyWarnings, takesBrowserCookies } from './browser.js';
export { loadPolicy, loadPolicyFile } from './load.js';
export { pathMatches, roleAllows } from './paths.js';
export {
  approversOf,
  getResource,
  isAdmin,
  isApprover,
  matchResource,
  mayRequest,
  requestableResources,
} from './queries.js';
export {
  checkDuration,
  checkExtension,
  checkNote,
  checkReason,
  checkReasonFor,
  MAX_REASON,
  resolveRole,
} from './rules.js';
export { METHODS, NAME_PATTERN, type PolicyProblem } from './schema.js';
export type { DbLogin, People, Policy, PostgresTarget, Resource, Role, UsergroupLookup } from './types.js';
export { cachedUsergroupLookup } from './usergroups.js';
