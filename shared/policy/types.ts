import type { SlackUserId } from '../ids.js';

/** People named in the policy: Slack user ids and Slack user-group ids (S…). */
export interface People {
  users: SlackUserId[];
  usergroups: string[];
}

/** A role: the methods (upper case, or '*') and path globs (`/api/**`, `/d/*`) it may use. */
export interface Role {
  name: string;
  methods: string[];
  paths: string[];
}

/** A resource after the defaults have been merged in. Durations are milliseconds. */
export interface Resource {
  name: string;
  description: string;
  upstream: string;
  match: { pathPrefix: string } | { host: string };
  approvers: People;
  /** Who may request it; undefined means everyone in the workspace. */
  requesters: People | undefined;
  approvalChannel: string;
  defaultDurationMs: number;
  maxDurationMs: number;
  pendingTimeoutMs: number;
  nudgeAfterMs: number;
  reminderBeforeMs: number;
  approvalsRequired: number;
  selfApproval: boolean;
  /** In policy order; never empty (a resource without roles gets one role named `access`: every method, every path). */
  roles: Role[];
  /** CIDRs; empty means any address. */
  networks: string[];
  websocket: boolean;
  /**
   * `shared-origin`: a pathPrefix resource that takes browser cookies on the authorizer's shared
   * origin. Absent, a pathPrefix resource takes bearer tokens only (host resources take cookies on
   * their own host). See takesBrowserCookies.
   */
  browser?: 'shared-origin' | undefined;
  breakGlass: boolean;
  autoApprove: People;
}

export interface Policy {
  admins: People;
  resources: ReadonlyMap<string, Resource>;
}

/** Resolves a Slack user group to its members (the bot calls `usergroups.users.list`). */
export type UsergroupLookup = (usergroupId: string) => Promise<SlackUserId[]>;
