import { describe, expect, it } from 'vitest';
import { csrfToken, csrfValid, sameOrigin } from '../../authorizer/ask/csrf.js';
import { checkAsk } from '../../authorizer/ask/input.js';
import { requestForm } from '../../authorizer/ask/pages.js';
import { type Ask, askerHash, askStatus, isWaiting } from '../../shared/asks/index.js';
import type { AccessRequest } from '../../shared/grants/records.js';
import { newRequestId, type RequestId } from '../../shared/ids.js';
import { loadPolicy } from '../../shared/policy/index.js';
import { generateSigningKeySet, loadSigningKeys } from '../../shared/tokens/index.js';

const keys = await loadSigningKeys(JSON.stringify(await generateSigningKeySet()));
const otherKeys = await loadSigningKeys(JSON.stringify(await generateSigningKeySet()));
const grafana = loadPolicy(`
defaults: { approvalChannel: C0APPROVALS, defaultDuration: 30m, maxDuration: 2h }
resources:
  grafana:
    upstream: http://127.0.0.1:1
    match: { pathPrefix: /grafana }
    browser: shared-origin
    approvers: { users: [U0BOSS] }
    roles:
      viewer: { methods: [GET] }
      editor: { methods: ["*"] }
`).resources.get('grafana')!;

describe('the anti-forgery token', () => {
  it('when made for a session, then it is valid for that session only, and only under these keys', () => {
    const token = csrfToken(keys, 'sid-aaaaaaaaaaaaaaaaaaaaaa');
    expect(csrfValid(keys, 'sid-aaaaaaaaaaaaaaaaaaaaaa', token)).toBe(true);
    expect(csrfValid(keys, 'sid-bbbbbbbbbbbbbbbbbbbbbb', token)).toBe(false);
    expect(csrfValid(otherKeys, 'sid-aaaaaaaaaaaaaaaaaaaaaa', token)).toBe(false);
  });

  it.each([undefined, '', 'no-dot', '.onlymac', `${keys.signing.kid}.`, 'x'.repeat(600), ['a', 'b']])(
    'when it is %j, then it is refused',
    (token) => {
      expect(csrfValid(keys, 'sid-aaaaaaaaaaaaaaaaaaaaaa', token)).toBe(false);
    },
  );

  it('when one character of its MAC changes, then it is refused', () => {
    const token = csrfToken(keys, 'sid-aaaaaaaaaaaaaaaaaaaaaa');
    const flipped = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
    expect(csrfValid(keys, 'sid-aaaaaaaaaaaaaaaaaaaaaa', flipped)).toBe(false);
  });
});

describe('the Origin check', () => {
  const publicUrl = new URL('https://access.example.com');
  const req = (headers: Record<string, string>) => ({ headers: { host: 'grafana.example.com', ...headers } });

  it.each([
    [{ origin: 'https://grafana.example.com' }, true],
    [{ origin: 'HTTPS://Grafana.example.com' }, true],
    [{ referer: 'https://grafana.example.com/d/x' }, true],
    [{ origin: 'https://evil.example' }, false],
    [{ origin: 'http://grafana.example.com' }, false],
    [{ origin: 'https://access.example.com' }, false],
    [{ origin: 'null' }, false],
    [{ origin: 'null', referer: 'https://grafana.example.com/' }, false],
    [{ referer: 'https://evil.example/grafana.example.com' }, false],
    [{ referer: 'not a url' }, false],
    [{}, false],
  ])('when the form comes with %j, then same origin is %s', (headers, expected) => {
    expect(sameOrigin(req(headers), publicUrl)).toBe(expected);
  });
});

describe('the form and its input', () => {
  it('when rendered, then it offers only the resource roles and its default, and escapes what it echoes', () => {
    const html = requestForm(
      grafana,
      { csrf: 't"<', returnPath: '/grafana/?a=1&b="x"' },
      { reason: '<script>' },
    );
    expect(html.match(/<option /g)).toHaveLength(2);
    expect(html).toContain('value="30m"');
    expect(html).toContain('at most 2h');
    expect(html).toContain('&lt;script&gt;');
    expect(html).not.toContain('<script>');
    expect(html).toContain('value="/grafana/?a=1&amp;b=&quot;x&quot;"');
  });

  it('when the input is good, then it is the checked role, duration and reason; an empty duration is the default', () => {
    expect(checkAsk(grafana, { role: 'editor', duration: '1h30m', reason: ' INC-1 \n x ' })).toEqual({
      ok: true,
      role: 'editor',
      durationMs: 90 * 60_000,
      reason: 'INC-1 x',
    });
    expect(checkAsk(grafana, { role: '', duration: '', reason: 'r' })).toMatchObject({
      role: 'viewer',
      durationMs: 30 * 60_000,
    });
  });

  it.each([
    [{ role: 'root', duration: '1h', reason: 'r' }, 'role'],
    [{ role: 'viewer', duration: '3h', reason: 'r' }, 'duration'],
    [{ role: 'viewer', duration: '0s', reason: 'r' }, 'duration'],
    [{ role: 'viewer', duration: '1h', reason: ' ' }, 'reason'],
    [{ role: 'viewer', duration: '1h', reason: 'x'.repeat(501) }, 'reason'],
  ])('when the input is %j, then the %s field is refused with a message', (fields, field) => {
    const checked = checkAsk(grafana, fields);
    expect(checked).toMatchObject({ ok: false, field });
    expect(checked.ok === false && checked.message.length > 10).toBe(true);
  });
});

describe('where an ask stands', () => {
  const ask: Ask = {
    id: newRequestId(),
    asker: { kind: 'email', email: 'a@example.com' },
    resource: 'grafana',
    sid: 's',
    returnTo: '/grafana/d',
    at: 0,
  };
  const request = (status: AccessRequest['status'], extra: Partial<AccessRequest> = {}) =>
    ({
      id: ask.id as RequestId,
      status,
      approvals: ['U0X'],
      approvalsRequired: 2,
      ...extra,
    }) as AccessRequest;

  it.each([
    [undefined, 'queued', true],
    [request('pending'), 'pending', true],
    [request('approved'), 'approved', false],
    [request('denied', { denyReason: 'not today' }), 'denied', false],
    [request('expired'), 'timed-out', false],
    [request('cancelled'), 'cancelled', false],
  ])('when its request is %#, then it is %s', (req, state, waiting) => {
    const s = askStatus(ask, req);
    expect(s.state).toBe(state);
    expect(isWaiting(s)).toBe(waiting);
  });

  it('when approved, then it says where to go back; pending says how many approvals; denied says why; refused says what the worker said', () => {
    expect(askStatus(ask, request('approved')).continueTo).toBe('/grafana/d');
    expect(askStatus(ask, request('pending'))).toMatchObject({ approvals: 1, required: 2 });
    expect(askStatus(ask, request('denied', { denyReason: 'not today' })).message).toContain('not today');
    expect(askStatus({ ...ask, refused: 'no Slack account' }, request('pending'))).toMatchObject({
      state: 'refused',
      message: 'no Slack account',
    });
  });

  it('when keyed, then the person is a hash (no e-mail in a key name), the same whatever the case', () => {
    const a = askerHash({ kind: 'email', email: 'Alice@Example.com' });
    expect(a).toBe(askerHash({ kind: 'email', email: 'alice@example.com' }));
    expect(a).not.toMatch(/alice/i);
    expect(askerHash({ kind: 'slack', user: 'U0ALICE' as never })).not.toBe(a);
  });
});
