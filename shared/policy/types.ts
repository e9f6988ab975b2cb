import type { SlackUserId } from '../ids.js';

/** People named in the policy: Slack user ids and Slack user-group ids (S…). */
export interface People {
  users: SlackUserId[];
  usergroups: string[];
}

/** A role: the methods (upper case, or '*') and path globs (`/api/**`, `/d/*`) it may use. */
export interface Role {
  name: string;
  /** HTTP only; empty for a postgres role (no HTTP request ever reaches one). */
  methods: string[];
  paths: string[];
  /**
   * May open WebSockets (only on a resource with `websocket: true`): its methods never imply it.
   * Absent means no.
   */
  websocket?: boolean | undefined;
  /** A postgres resource's role: the database login jitgate uses on the holder's behalf. */
  db?: DbLogin | undefined;
}

/**
 * The database login behind a postgres role. The password is never in the policy: it is read from
 * a file or an environment variable of the authorizer when a session logs in (so a rotated password
 * takes effect at the next login), and never shown to anyone.
 */
export interface DbLogin {
  user: string;
  password: { file: string } | { env: string } | undefined;
  /** Sessions start with default_transaction_read_only on (a safety belt; the login's privileges are the wall). */
  readOnly: boolean;
}

/** Where a postgres resource's database is (from `upstream: postgres://host:port/database`). */
export interface PostgresTarget {
  host: string;
  port: number;
  database: string;
  /** From `?sslmode=require|verify-full` (and `sslrootcert`): TLS to the database; absent, plain TCP. */
  tls?: { verify: boolean; caFile?: string } | undefined;
}

/** A resource after the defaults have been merged in. Durations are milliseconds. */
export interface Resource {
  name: string;
  description: string;
  /** `http` (the default) or `postgres` (reached through the PostgreSQL gateway, never over HTTP). */
  kind?: 'http' | 'postgres' | undefined;
  upstream: string;
  /** How requests find it: a path prefix or host (HTTP), or the database name a client asks for (postgres: the resource's name). */
  match: { pathPrefix: string } | { host: string } | { database: string };
  /** For kind postgres: the database behind it. */
  postgres?: PostgresTarget | undefined;
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
  /**
   * An approval counts only once the approver confirms it in the browser with a fresh sign-in at the
   * IdP (needs sign-in configured); the Approve button then opens that page.
   */
  approverStepUp: boolean;
  /** How often the approvers are reminded of a break-glass grant nobody has reviewed yet. */
  reviewRemindEveryMs: number;
  /** Who gets an undecided request, with its buttons, `afterMs` after it was filed (escalateAfter / escalateTo). */
  escalation?: { afterMs: number; to: People } | undefined;
  /** A regular expression (source, matched with the `u` flag) that a request's reason must match; any reason when absent. */
  reasonPattern?: string | undefined;
  /** The most undecided requests (extensions included) a person may have when filing one here. */
  maxPendingRequests: number;
  /** The most undecided requests for this resource a person may have (extensions: one per grant). */
  maxPendingPerResource: number;
  /** A person Slack gives no e-mail address for may not request it (else their grant carries none). */
  requireEmail: boolean;
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
  /** Requests granted without approvers; nobody's when its users, usergroups and roles are all empty. */
  autoApprove: AutoApprove;
}

/**
 * When a request needs no approval: its requester is among `users`/`usergroups`, or its role is
 * among `roles`; and it asks for at most `maxDurationMs` (when set) within `hours` (when set).
 */
export interface AutoApprove extends People {
  roles: string[];
  maxDurationMs?: number | undefined;
  hours?: WorkingHours | undefined;
}

/** A weekly window: on `days`, from `fromMinute` to `toMinute` (minutes after midnight) in `timezone`; across midnight when to < from. */
export interface WorkingHours {
  days: ('mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun')[];
  fromMinute: number;
  toMinute: number;
  timezone: string;
}

export interface Policy {
  admins: People;
  resources: ReadonlyMap<string, Resource>;
}

/** Resolves a Slack user group to its members (the bot calls `usergroups.users.list`). */
export type UsergroupLookup = (usergroupId: string) => Promise<SlackUserId[]>;
