export { loadPolicy, loadPolicyFile, type PolicyProblem } from './load.js';
export { pathMatches, roleAllows } from './paths.js';
export {
  approversOf,
  checkDuration,
  getResource,
  isAdmin,
  isApprover,
  isAutoApproved,
  matchResource,
  mayRequest,
  requestableResources,
  resolveRole,
} from './queries.js';
export type { People, Policy, Resource, Role, UsergroupLookup } from './types.js';
export { cachedUsergroupLookup } from './usergroups.js';
