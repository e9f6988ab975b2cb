import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { parseDuration } from '../duration.js';

/**
 * The policy file as written, before defaults are merged. Every object is strict (an unknown key is
 * an error), every message reads after its key path: `resources.grafana.maxDuration: "4x" is not a
 * duration (…)`. Durations come out as milliseconds.
 */

export const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', '*'] as const;

/** Resource and role names appear in `/access grafana/viewer`, so no `/`, no upper case. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,39}$/;

/** How a value from the file reads in a message. */
export function show(value: unknown): string {
  if (value === null || value === undefined) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string')
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  return String(value);
}

/** A string checked by a function that says what is wrong with it, or nothing. */
function text(problem: (s: string) => string | undefined) {
  return z.string().superRefine((s, ctx) => {
    const why = problem(s);
    if (why !== undefined) ctx.addIssue({ code: 'custom', message: why });
  });
}

const shaped = (pattern: RegExp, what: string) =>
  text((s) => (pattern.test(s) ? undefined : `${show(s)} is not ${what}`));

const DURATION_HINT = 'write 30s, 15m, 2h, 1h30m or 1d';
const durationMs = z.unknown().transform((value, ctx): number => {
  if (typeof value === 'string') {
    try {
      return parseDuration(value);
    } catch {
      // reported below
    }
  }
  const zero = typeof value === 'string' && /^\s*(?:0+[dhms])+\s*$/i.test(value);
  ctx.addIssue({
    code: 'custom',
    message: zero
      ? `${show(value)} is zero (${DURATION_HINT})`
      : `${show(value)} is not a duration (${DURATION_HINT})`,
  });
  return z.NEVER;
});

const userId = shaped(/^[UW][A-Z0-9]{2,}$/, 'a Slack user id (U… or W…, e.g. U0123ABCD)');
const usergroupId = shaped(/^S[A-Z0-9]{2,}$/, 'a Slack user group id (S…, e.g. S0123ABCD)');
const channelId = shaped(/^[CG][A-Z0-9]{2,}$/, 'a Slack channel id (C… or G…, e.g. C0123ABCD)');
export const name = shaped(
  NAME_PATTERN,
  'a usable name (lowercase letters, digits, - and _, starting with a letter or digit, at most 40 characters)',
);

const people = z.strictObject({
  users: z.array(userId).default([]),
  usergroups: z.array(usergroupId).default([]),
});

const method = z.string().transform((m, ctx) => {
  const upper = m.toUpperCase();
  if ((METHODS as readonly string[]).includes(upper)) return upper;
  ctx.addIssue({ code: 'custom', message: `${show(m)} is not a method (use ${METHODS.join(', ')})` });
  return z.NEVER;
});

const hasDotSegment = (p: string) => p.split('/').some((s) => s === '.' || s === '..');

const pathGlob = text((p) => {
  if (!p.startsWith('/')) return `${show(p)} must start with /`;
  if (hasDotSegment(p)) return `${show(p)} must not contain . or .. segments`;
  if (/[?#\\]/.test(p)) return `${show(p)} must not contain ?, # or \\`;
  if (p.split('/').some((s) => s.includes('**') && s !== '**'))
    return `${show(p)}: ** must be a whole segment`;
  return undefined;
});

/** A database login name as PostgreSQL spells an unquoted one (letters, digits, _ and $). */
const dbUser = shaped(/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/, 'a database login name (e.g. jit_readonly)');

const passwordFile = text((p) =>
  p.startsWith('/') ? undefined : `${show(p)} must be an absolute path (e.g. /run/secrets/jit_readonly)`,
);

const envName = shaped(
  /^[A-Z_][A-Z0-9_]{0,127}$/,
  'an environment variable name (e.g. JITGATE_DB_READONLY_PASSWORD)',
);

/**
 * A role: HTTP keys (methods, paths) for an HTTP resource, database keys (dbUser, the password's
 * file or environment variable, readOnly) for a postgres one. Both sets are optional here; which
 * set a role must use is checked against its resource's kind when the policy is resolved, so that
 * the message can say why.
 */
const role = z.strictObject({
  methods: z.array(method).min(1, 'is empty: name at least one method, or "*" for every method').optional(),
  paths: z
    .array(pathGlob)
    .min(1, 'is empty: name at least one path glob, or leave paths out for "/**"')
    .optional(),
  dbUser: dbUser.optional(),
  passwordFile: passwordFile.optional(),
  passwordEnv: envName.optional(),
  readOnly: z.boolean().optional(),
  // May open WebSockets (only where the resource allows them); methods never imply it.
  websocket: z.boolean().optional(),
});
export type RoleFile = z.infer<typeof role>;

const cidr = text((s) => {
  try {
    const [address] = ipaddr.parseCIDR(s);
    // ipaddr.js also reads forms like `10/8` or `0x0a000000/8`; only the usual spellings are accepted.
    const usual = address.kind() === 'ipv4' ? ipaddr.IPv4.isValidCIDRFourPartDecimal(s) : !s.includes('%');
    if (usual) return undefined;
  } catch {
    // reported below
  }
  return `${show(s)} is not a CIDR (e.g. 10.0.0.0/8 or fd00::/8)`;
});

const pathPrefix = text((p) => {
  if (!p.startsWith('/')) return `${show(p)} must start with / (e.g. /grafana)`;
  if (p.endsWith('/')) return `${show(p)} must not end with / (write /grafana, not /grafana/)`;
  if (p.includes('//')) return `${show(p)} must not contain //`;
  if (p.includes('..') || hasDotSegment(p)) return `${show(p)} must not contain .. or . segments`;
  if (p.includes('%')) return `${show(p)} must not contain % (routing sees decoded paths)`;
  if (p.includes('\\')) return `${show(p)} must not contain \\`;
  if (p.includes('/_jitgate')) return `${show(p)}: /_jitgate is reserved for the authorizer's own routes`;
  if (!/^[A-Za-z0-9\-._~!$&'()*+,;=:@/]+$/.test(p))
    return `${show(p)} may use only letters, digits, / and - . _ ~`;
  return undefined;
});

const host = text((h) =>
  h.length <= 253 &&
  /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i.test(h)
    ? undefined
    : `${show(h)} is not a host name (write it like grafana.access.example.com, without scheme, port or path)`,
).transform((h) => h.toLowerCase());

export const MatchFile = z
  .strictObject({ pathPrefix: pathPrefix.optional(), host: host.optional() })
  .superRefine((m, ctx) => {
    if ((m.pathPrefix === undefined) === (m.host === undefined)) {
      ctx.addIssue({
        code: 'custom',
        message:
          m.host === undefined
            ? 'give one of pathPrefix (e.g. /grafana) or host (e.g. grafana.access.example.com)'
            : 'give exactly one of pathPrefix or host, not both',
      });
    }
  });

const upstream = text((u) => {
  if (!URL.canParse(u)) return `${show(u)} is not a URL (e.g. http://127.0.0.1:3001)`;
  const url = new URL(u);
  if (!['http:', 'https:', 'postgres:', 'postgresql:'].includes(url.protocol))
    return `${show(u)} must be an http:// or https:// URL (or postgres:// with kind: postgres)`;
  if (url.hostname === '') return `${show(u)} names no host`;
  if (url.username !== '' || url.password !== '') return 'must not carry a user name or password';
  // A database's URL may say how to reach it over TLS (?sslmode=…, checked with its kind).
  const database = url.protocol === 'postgres:' || url.protocol === 'postgresql:';
  if ((url.search !== '' && !database) || url.hash !== '')
    return `${show(u)} must not have a query or fragment`;
  return undefined;
});

/**
 * `browser: shared-origin`, the one value: a pathPrefix resource that takes browser cookies on the
 * authorizer's origin, which it shares with every other such resource. Without it a pathPrefix
 * resource takes bearer tokens only.
 */
const SHARED_ORIGIN = 'shared-origin';
const browser = z.unknown().transform((value, ctx): typeof SHARED_ORIGIN => {
  if (value === SHARED_ORIGIN) return SHARED_ORIGIN;
  ctx.addIssue({
    code: 'custom',
    message: `${show(value)} is not a browser setting: the only value is ${SHARED_ORIGIN} (leave browser out for a resource reached with bearer tokens only)`,
  });
  return z.NEVER;
});

/**
 * A pattern a request's reason must match (`^(INC|CHG)-[0-9]+`): a JavaScript regular expression,
 * at most 200 characters, without a repeated group that itself repeats (`(a+)+`), which can take
 * exponential time on a crafted reason and would stall the bot.
 */
const reasonPattern = text((p) => {
  if (p.length === 0) return 'is empty: leave reasonPattern out to accept any reason';
  if (p.length > 200) return `is ${p.length} characters long; keep it to 200`;
  try {
    new RegExp(p, 'u');
  } catch (err) {
    return `${show(p)} is not a regular expression (${(err as Error).message})`;
  }
  if (/\((?:[^()\\]|\\.)*(?:[+*]|\{\d+,\d*\})(?:[^()\\]|\\.)*\)(?:[+*]|\{\d+,\d*\})/.test(p))
    return `${show(p)} repeats a group that itself repeats (like (a+)+), which can take exponential time; write it without the nested repetition`;
  return undefined;
});

/** A whole number of at least 1 (approvals, limits). */
const atLeastOne = z
  .number()
  .int({ error: (i) => `must be a whole number, not ${show(i.input)}` })
  .min(1, { error: (i) => `must be at least 1, not ${show(i.input)}` })
  .max(1000, { error: (i) => `must be at most 1000, not ${show(i.input)}` });

/** Keys that a resource may set and that `defaults` sets for every resource. */
const tunables = {
  reasonPattern: reasonPattern.optional(),
  escalateAfter: durationMs.optional(),
  reviewRemindEvery: durationMs.optional(),
  approverStepUp: z.boolean().optional(),
  escalateTo: people.optional(),
  approvalChannel: channelId.optional(),
  defaultDuration: durationMs.optional(),
  maxDuration: durationMs.optional(),
  pendingTimeout: durationMs.optional(),
  nudgeAfter: durationMs.optional(),
  reminderBefore: durationMs.optional(),
  approvalsRequired: atLeastOne.optional(),
  selfApproval: z.boolean().optional(),
  maxPendingRequests: atLeastOne.optional(),
  maxPendingPerResource: atLeastOne.optional(),
  requireEmail: z.boolean().optional(),
};

export const DefaultsFile = z.strictObject(tunables);
export type DefaultsFile = z.infer<typeof DefaultsFile>;

export const PeopleFile = people;

/** `kind`: http (the default) or postgres (reached through the PostgreSQL gateway). */
export const KINDS = ['http', 'postgres'] as const;
const kind = z.unknown().transform((value, ctx): (typeof KINDS)[number] => {
  if (value === 'http' || value === 'postgres') return value;
  ctx.addIssue({
    code: 'custom',
    message: `${show(value)} is not a kind: write http (the default) or postgres`,
  });
  return z.NEVER;
});

/** Days of the week as the policy writes them. */
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const weekday = z.string().transform((d, ctx) => {
  const day = d.toLowerCase().slice(0, 3);
  if ((WEEKDAYS as readonly string[]).includes(day) && /^[a-z]+$/i.test(d))
    return day as (typeof WEEKDAYS)[number];
  ctx.addIssue({
    code: 'custom',
    message: `${show(d)} is not a day (write mon, tue, wed, thu, fri, sat or sun)`,
  });
  return z.NEVER;
});
/** `09:00` → minutes after midnight. */
const clockTime = z.string().transform((t, ctx) => {
  const m = /^([01][0-9]|2[0-3]):([0-5][0-9])$/.exec(t);
  if (m) return Number(m[1]) * 60 + Number(m[2]);
  ctx.addIssue({
    code: 'custom',
    message: `${show(t)} is not a time of day (write it as HH:MM, e.g. 09:00 or 18:30)`,
  });
  return z.NEVER;
});
const timezone = text((tz) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return undefined;
  } catch {
    return `${show(tz)} is not a time zone (write an IANA name like Europe/Berlin, America/New_York or UTC)`;
  }
});
const hours = z
  .strictObject({
    days: z
      .array(weekday)
      .min(1, 'is empty: name at least one day, or leave days out for mon to fri')
      .optional(),
    from: clockTime,
    to: clockTime,
    timezone: timezone.default('UTC'),
  })
  .refine((h) => h.from !== h.to, { message: 'from and to are the same time: the window would be empty' });

/**
 * Who needs no approval: `users` and `usergroups` (for any role) and `roles` (for anyone who may
 * request), limited to grants of at most `maxDuration` and, with `hours`, to working hours.
 */
const autoApprove = z.strictObject({
  users: z.array(userId).default([]),
  usergroups: z.array(usergroupId).default([]),
  roles: z.array(name).default([]),
  maxDuration: durationMs.optional(),
  hours: hours.optional(),
});

export const ResourceFile = z.strictObject({
  kind: kind.default('http'),
  description: z.string().default(''),
  upstream,
  /** Required for HTTP resources; a postgres resource is matched by the database name instead. */
  match: MatchFile.optional(),
  approvers: people,
  requesters: people.optional(),
  roles: z
    .record(name, role)
    .refine(
      (r) => Object.keys(r).length > 0,
      'is empty: name a role, or leave roles out for one role with every method',
    )
    .optional(),
  networks: z.array(cidr).default([]),
  websocket: z.boolean().optional(),
  browser: browser.optional(),
  breakGlass: z.boolean().default(false),
  autoApprove: autoApprove.optional(),
  ...tunables,
});
export type ResourceFile = z.infer<typeof ResourceFile>;

/** The top level; `defaults`, `admins` and each resource are checked on their own so that all problems are found. */
export const PolicyFile = z.strictObject({
  defaults: z.unknown().optional(),
  admins: z.unknown().optional(),
  resources: z
    .record(name, z.unknown())
    .refine((r) => Object.keys(r).length > 0, 'is empty: name at least one resource'),
});

export interface PolicyProblem {
  /** Where in the file, e.g. `resources.grafana.networks[1]`; empty for the file as a whole. */
  path: string;
  message: string;
}

/**
 * `resources.grafana.networks[1]` from a list of keys. A key the dotted form would hide or garble
 * (empty, or with white space, dots, brackets or quotes) is quoted, `roles[" "]`, so that the path
 * still shows it.
 */
export function keyPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => {
    if (typeof key === 'number') return `${out}[${key}]`;
    const name = String(key);
    if (!/^[^\s.[\]"]+$/.test(name)) return `${out}[${JSON.stringify(name)}]`;
    return out === '' ? name : `${out}.${name}`;
  }, '');
}

const TYPE_NAMES: Record<string, string> = {
  string: 'text',
  number: 'a number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
};

/** Checks `value` against `schema`; problems carry key paths that start with `at`. */
export function check<S extends z.ZodType>(
  schema: S,
  value: unknown,
  at: readonly PropertyKey[],
  problems: PolicyProblem[],
): z.output<S> | undefined {
  const parsed = schema.safeParse(value, {
    error: (issue) => {
      if (issue.code !== 'invalid_type') return undefined;
      if (issue.input === undefined) return 'is required';
      return `should be ${TYPE_NAMES[issue.expected] ?? issue.expected}, not ${show(issue.input)}`;
    },
  });
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) {
    const path = [...at, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      const known = keysAt(schema, issue.path);
      for (const key of issue.keys) {
        problems.push({
          path: keyPath([...path, key]),
          message: `is not a known key (known here: ${known.join(', ')})`,
        });
      }
    } else if (issue.code === 'invalid_key') {
      problems.push({ path: keyPath(path), message: issue.issues[0]?.message ?? issue.message });
    } else {
      problems.push({ path: keyPath(path), message: issue.message });
    }
  }
  return undefined;
}

/** The keys an object in `schema` at `path` accepts, to list them when an unknown one is found. */
function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let at: unknown = schema;
  const unwrap = () => {
    while (at instanceof z.ZodOptional || at instanceof z.ZodDefault) at = at.unwrap();
  };
  for (const key of path) {
    unwrap();
    if (at instanceof z.ZodObject) at = (at.shape as Record<PropertyKey, unknown>)[key];
    else if (at instanceof z.ZodRecord) at = at.valueType;
    else if (at instanceof z.ZodArray) at = at.element;
    else return [];
  }
  unwrap();
  return at instanceof z.ZodObject ? Object.keys(at.shape) : [];
}
