import { loadPolicy, type Policy } from '../shared/policy/index.js';

/** The one protected resource of the bench: `/app/*` → the upstream, GET for viewers. */
export const BENCH_RESOURCE = 'app';
export const BENCH_ROLE = 'viewer';
export const BENCH_ISSUER = 'http://127.0.0.1:8080';

export function benchPolicyYaml(upstreamUrl: string): string {
  return `
defaults: { approvalChannel: C0APPROVALS, defaultDuration: 1h, maxDuration: 8h }
resources:
  ${BENCH_RESOURCE}:
    description: The bench upstream
    upstream: ${upstreamUrl}
    match: { pathPrefix: /app }
    browser: shared-origin
    approvers: { users: [U0BOSS] }
    roles:
      ${BENCH_ROLE}: { methods: [GET, HEAD] }
`;
}

export function benchPolicy(upstreamUrl: string): Policy {
  return loadPolicy(benchPolicyYaml(upstreamUrl), 'the bench policy');
}
