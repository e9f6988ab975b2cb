import type { Clock } from '../clock.js';
import type { AccessStore } from '../grants/store.js';
import type { JobScheduler } from '../jobs/scheduler.js';
import type { Policy, UsergroupLookup } from '../policy/types.js';

/**
 * What the use cases work with, passed in by the assembly. Each use case takes only the part it
 * needs (`Pick<AccessDeps, …>`), so a caller with less (the worker, the authorizer) can still call it.
 */
export interface AccessDeps {
  store: AccessStore;
  scheduler: JobScheduler;
  /** The current policy (a function, so that a reloaded policy takes effect without a restart). */
  policy: () => Policy;
  usergroups: UsergroupLookup;
  clock: Clock;
  /** The authorizer's external base URL, for redeem links. */
  publicUrl: string;
}
