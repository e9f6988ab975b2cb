import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { parseDuration } from '../duration.js';

/** The policy file as written (before defaults are merged). Every object is strict: unknown keys are errors. */
const duration = z.string().refine(
  (s) => {
    try {
      parseDuration(s);
      return true;
    } catch {
      return false;
    }
  },
  { error: (issue) => `${JSON.stringify(issue.input)} is not a duration (write 30s, 15m, 2h, 1h30m or 1d)` },
);

const userId = z.string().regex(/^[UW][A-Z0-9]{2,}$/, 'a Slack user id looks like U0123ABCD');
const usergroupId = z.string().regex(/^S[A-Z0-9]{2,}$/, 'a Slack user group id looks like S0123ABCD');
const channelId = z.string().regex(/^[CG][A-Z0-9]{2,}$/, 'a Slack channel id looks like C0123ABCD');
const name = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, 'use lowercase letters, digits, - and _ (at most 40, no /)');

const people = z.strictObject({
  users: z.array(userId).default([]),
  usergroups: z.array(usergroupId).default([]),
});

export const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', '*'] as const;
const method = z
  .string()
  .transform((m) => m.toUpperCase())
  .refine((m) => (METHODS as readonly string[]).includes(m), `must be one of ${METHODS.join(', ')}`);
const pathGlob = z
  .string()
  .regex(/^\//, 'must start with /')
  .refine((p) => !/(^|\/)\.\.?(\/|$)/.test(p), 'must not contain . or .. segments');

const role = z.strictObject({
  methods: z.array(method).min(1, 'name at least one method (or "*")'),
  paths: z.array(pathGlob).min(1, 'name at least one path (or "/**")').default(['/**']),
});

const cidr = z.string().refine(
  (s) => {
    try {
      ipaddr.parseCIDR(s);
      return true;
    } catch {
      return false;
    }
  },
  { error: (issue) => `${JSON.stringify(issue.input)} is not a CIDR such as 10.0.0.0/8 or fd00::/8` },
);

const pathPrefix = z
  .string()
  .regex(/^\/[^/]/, 'must start with / and name a path, e.g. /grafana')
  .refine((p) => !p.endsWith('/'), 'must not end with /')
  .refine((p) => !/\.\.|%|\\|\/\/|\?|#/.test(p), 'must not contain .., %, \\, //, ? or #')
  .refine(
    (p) => p !== '/_jitgate' && !p.startsWith('/_jitgate/'),
    '/_jitgate is reserved for the authorizer',
  );
const host = z
  .string()
  .regex(
    /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i,
    'must be a host name such as grafana.access.example.com',
  );

const match = z.union([z.strictObject({ pathPrefix }), z.strictObject({ host })], {
  error: 'give exactly one of pathPrefix or host',
});

const tunables = {
  approvalChannel: channelId.optional(),
  defaultDuration: duration.optional(),
  maxDuration: duration.optional(),
  pendingTimeout: duration.optional(),
  nudgeAfter: duration.optional(),
  approvalsRequired: z.number().int('must be a whole number').min(1, 'must be at least 1').optional(),
  selfApproval: z.boolean().optional(),
  reminderBefore: duration.optional(),
};

const resource = z.strictObject({
  description: z.string().default(''),
  upstream: z
    .string()
    .refine(
      (u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol),
      'must be an http:// or https:// URL',
    ),
  match,
  approvers: people.default({ users: [], usergroups: [] }),
  requesters: people.optional(),
  roles: z.record(name, role).optional(),
  networks: z.array(cidr).default([]),
  websocket: z.boolean().default(false),
  breakGlass: z.boolean().default(false),
  autoApprove: z.strictObject({ users: z.array(userId).default([]) }).default({ users: [] }),
  ...tunables,
});

export const PolicyFile = z.strictObject({
  defaults: z.strictObject(tunables).default({}),
  admins: people.default({ users: [], usergroups: [] }),
  resources: z.record(name, resource).refine((r) => Object.keys(r).length > 0, 'name at least one resource'),
});
export type PolicyFile = z.infer<typeof PolicyFile>;
export type ResourceFile = z.infer<typeof resource>;
