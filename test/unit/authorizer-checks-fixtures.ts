import type { ClientInfo } from '../../authorizer/checks/client-address.js';
import { clientResolver } from '../../authorizer/checks/client-address.js';
import type { AccessContext } from '../../authorizer/checks/context.js';
import type { HttpAccess } from '../../authorizer/checks/http.js';
import { loadPolicy } from '../../shared/policy/index.js';

/** Fixtures shared by the tests of each access check: a policy, and attempts built without any HTTP request. */
export const ISSUER = 'http://127.0.0.1:8080';

export const policy = loadPolicy(`
defaults: { approvalChannel: C0APPROVALS, defaultDuration: 2h }
resources:
  grafana:
    upstream: http://127.0.0.1:3001
    match: { pathPrefix: /grafana }
    browser: shared-origin
    approvers: { users: [U0BOSS] }
    roles:
      viewer: { methods: [GET, HEAD] }
      editor: { methods: ["*"], paths: ["/api/**"] }
  wiki:
    upstream: http://127.0.0.1:3002
    match: { host: wiki.access.test }
    approvers: { users: [U0BOSS] }
    networks: [10.0.0.0/8, "2001:db8::/32"]
  live:
    upstream: http://127.0.0.1:3003
    match: { pathPrefix: /live }
    approvers: { users: [U0BOSS] }
    websocket: true
  api:
    upstream: http://127.0.0.1:3004
    match: { pathPrefix: /api }
    approvers: { users: [U0BOSS] }
`);
export const grafana = policy.resources.get('grafana')!;
export const wiki = policy.resources.get('wiki')!;
/** A pathPrefix resource without `browser: shared-origin`: bearer tokens only. */
export const api = policy.resources.get('api')!;

const resolve = clientResolver([]);
/** The client as the authorizer would resolve a socket peer with no trusted proxies. */
export const clientAt = (address: string | undefined): ClientInfo => resolve(address, undefined);

/** What every check writes, before any has run: the fields an attempt of any transport starts with. */
export const NOTHING_LEARNED = {
  resource: undefined,
  upstreamPath: undefined,
  user: undefined,
  email: undefined,
  grantId: undefined,
  roleName: undefined,
  expiresAt: undefined,
  role: undefined,
} as const satisfies Partial<AccessContext>;

/** An HTTP attempt as the adapter builds it, before any check ran; override what the test is about. */
export function attempt(over: Partial<HttpAccess> = {}): HttpAccess {
  return {
    client: clientAt('127.0.0.1'),
    method: 'GET',
    target: '/grafana/d/abc',
    websocket: false,
    token: undefined,
    host: '127.0.0.1:8080',
    authorization: undefined,
    cookies: undefined,
    tokenFrom: undefined,
    session: undefined,
    signInNeeded: false,
    ...NOTHING_LEARNED,
    ...over,
  };
}

/** An attempt that the route check has already matched to grafana (the upstream path given). */
export function routed(over: Partial<HttpAccess> = {}): HttpAccess {
  return attempt({ resource: grafana, upstreamPath: '/d/abc', ...over });
}
