import { describe, expect, it } from 'vitest';
import { prefersHtml, refusalBody } from '../../authorizer/refusal-response.js';
import { type RefusalCode, refusal, statusFor } from '../../authorizer/refusals.js';
import { loadPolicy } from '../../shared/policy/index.js';

const policy = loadPolicy(`
defaults: { approvalChannel: C0APPROVALS, defaultDuration: 2h }
resources:
  grafana:
    upstream: http://127.0.0.1:3001
    match: { pathPrefix: /grafana }
    approvers: { users: [U0BOSS] }
    roles:
      viewer: { methods: [GET, HEAD] }
      editor: { methods: ["*"], paths: ["/api/**"] }
`);
const grafana = policy.resources.get('grafana')!;

describe('statusFor: refusal code → HTTP status', () => {
  const table: [RefusalCode, number][] = [
    ['token_missing', 401],
    ['token_invalid', 401],
    ['token_expired', 401],
    ['grant_revoked', 401],
    ['grant_expired', 401],
    ['wrong_resource', 403],
    ['method_not_allowed', 403],
    ['network_not_allowed', 403],
    ['no_such_resource', 404],
    ['bad_path', 400],
    ['unavailable', 503],
    ['upstream_unreachable', 502],
    ['upstream_timeout', 504],
    ['code_unknown', 404],
    ['code_used', 410],
    ['grant_not_active', 410],
    ['internal_error', 500],
  ];
  it.each(table)('when the code is %s, then the status is %i', (code, status) => {
    expect(statusFor(code)).toBe(status);
  });

  it('when a code has no mapping (a bot-side code), then the status is 500, never a 2xx', () => {
    expect(statusFor('not_an_approver')).toBe(500);
  });
});

describe('refusal hints', () => {
  it('when a grant is missing, then the hint is the exact /access command with role and default duration', () => {
    expect(refusal('token_missing', { resource: grafana }).hint).toContain(
      '/access grafana/viewer 2h <reason>',
    );
  });

  it('when the role does not fit, then the hint names a role that allows the request', () => {
    const r = refusal('method_not_allowed', {
      resource: grafana,
      role: 'viewer',
      method: 'POST',
      path: '/api/x',
    });
    expect(r.hint).toContain('/access grafana/editor 2h <reason>');
  });

  it('when the resource is unknown, then the hint points to /access resources', () => {
    expect(refusal('no_such_resource').hint).toContain('/access resources');
  });
});

describe('refusal bodies', () => {
  it('when JSON is wanted, then the body is exactly {error, message, hint}', () => {
    const { type, body } = refusalBody(refusal('token_missing', { resource: grafana }), false, 401);
    expect(type).toMatch(/application\/json/);
    expect(Object.keys(JSON.parse(body))).toEqual(['error', 'message', 'hint']);
  });

  it('when HTML is wanted, then text is escaped', () => {
    const { body } = refusalBody({ code: 'bad_path', message: '<script>', hint: 'a & b' }, true, 400);
    expect(body).toContain('&lt;script&gt;');
    expect(body).toContain('a &amp; b');
    expect(body).not.toContain('<script>');
  });

  it('when a signed-in person has no grant, then the page says who they are, what they lack and exactly what to type in Slack', () => {
    const r = refusal('no_grant', { resource: grafana }, 'You have no access to grafana.');
    const { body } = refusalBody(r, true, 403, 'alice@acme.com');
    expect(body).toContain('<h1>Signed in as alice@acme.com — you have no access to grafana</h1>');
    expect(body).toContain('<p id="why">You have no access to grafana.</p>');
    expect(body).toContain('type <code>/access grafana/viewer 2h &lt;reason&gt;</code> in Slack');
    // JSON stays {error, message, hint}; a page for nobody signed in stays as it was.
    expect(Object.keys(JSON.parse(refusalBody(r, false, 403, 'alice@acme.com').body))).toEqual([
      'error',
      'message',
      'hint',
    ]);
    expect(refusalBody(r, true, 403).body).toBe(refusalBody(r, true, 403, undefined).body);
    expect(refusalBody(r, true, 403).body).not.toContain('Signed in as');
  });

  it('when the name signed in holds markup, then it is escaped', () => {
    const { body } = refusalBody(
      refusal('method_not_allowed', { resource: grafana }),
      true,
      403,
      '<b>x</b>@acme.com',
    );
    expect(body).toContain('Signed in as &lt;b&gt;x&lt;/b&gt;@acme.com');
  });

  it.each([
    ['text/html,application/xhtml+xml,*/*;q=0.8', true],
    ['application/json', false],
    ['application/json, text/html', false],
    ['*/*', false],
    [undefined, false],
  ])('when Accept is %s, then prefersHtml is %s', (accept, html) => {
    expect(prefersHtml(accept)).toBe(html);
  });
});
