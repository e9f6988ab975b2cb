import { describe, expect, it } from 'vitest';
import { isHolder, personFrom } from '../../authorizer/identity/person.js';
import type { SlackUserId } from '../../shared/ids.js';

describe('the person an ID token names', () => {
  it('when it is Sign in with Slack, then the person is the Slack user of the workspace, not the e-mail', () => {
    const found = personFrom('slack', {
      sub: 'U0ALICE',
      'https://slack.com/user_id': 'U0ALICE',
      'https://slack.com/team_id': 'T0ACME',
      email: 'alice@acme.com',
      email_verified: true,
      name: 'Alice',
    });
    expect(found).toEqual({
      ok: true,
      person: { kind: 'slack', user: 'U0ALICE', team: 'T0ACME' },
      name: 'Alice',
      email: 'alice@acme.com',
    });
  });

  it('when a Slack ID token lacks the user or team id, then it is refused with what to check', () => {
    const found = personFrom('slack', { sub: 'U0ALICE', email: 'alice@acme.com', email_verified: true });
    expect(found).toMatchObject({
      ok: false,
      reason: 'claims_missing',
      message: expect.stringMatching(/openid/),
    });
    expect(
      personFrom('slack', { 'https://slack.com/user_id': 'not-a-user', 'https://slack.com/team_id': 'T1' })
        .ok,
    ).toBe(false);
  });

  it('when another IdP says the e-mail is verified, then the person is that e-mail, lower-cased', () => {
    expect(
      personFrom('email', { sub: '00u1', email: ' Alice@ACME.com ', email_verified: true }),
    ).toMatchObject({
      ok: true,
      person: { kind: 'email', email: 'alice@acme.com' },
    });
  });

  it('when the e-mail is not verified (false, missing or the string "true"), then sign-in is refused and says why', () => {
    for (const email_verified of [false, undefined, 'true']) {
      const found = personFrom('email', { sub: '00u1', email: 'alice@acme.com', email_verified });
      expect(found).toMatchObject({ ok: false, reason: 'email_unverified' });
      if (!found.ok) expect(found.message).toMatch(/alice@acme\.com is verified/);
    }
  });

  it('when there is no e-mail, then sign-in is refused and asks for the email scope', () => {
    expect(personFrom('email', { sub: '00u1' })).toMatchObject({ ok: false, reason: 'claims_missing' });
  });
});

describe('the holder of a grant', () => {
  const grant = { user: 'U0ALICE', email: 'Alice@Acme.com' };

  it('when signed in with Slack, then only the same Slack user holds it (an e-mail alone is not enough)', () => {
    expect(isHolder({ kind: 'slack', user: 'U0ALICE' as SlackUserId, team: 'T0ACME' }, grant)).toBe(true);
    expect(isHolder({ kind: 'slack', user: 'U0MALLORY' as SlackUserId, team: 'T0ACME' }, grant)).toBe(false);
  });

  it('when signed in with Slack and the grant recorded its workspace, then only that workspace holds it; without one, the user id decides', () => {
    const alice = (team: string) => ({ kind: 'slack', user: 'U0ALICE' as SlackUserId, team }) as const;
    expect(isHolder(alice('T0ACME'), { ...grant, team: 'T0ACME' })).toBe(true);
    expect(isHolder(alice('T0OTHER'), { ...grant, team: 'T0ACME' })).toBe(false);
    expect(isHolder(alice('T0OTHER'), grant)).toBe(true);
    // An e-mail sign-in has no workspace: the address decides.
    expect(isHolder({ kind: 'email', email: 'alice@acme.com' }, { ...grant, team: 'T0ACME' })).toBe(true);
  });

  it('when signed in by e-mail, then the same address holds it whatever its case, and an empty one never does', () => {
    expect(isHolder({ kind: 'email', email: 'alice@acme.com' }, grant)).toBe(true);
    expect(isHolder({ kind: 'email', email: 'mallory@acme.com' }, grant)).toBe(false);
    expect(isHolder({ kind: 'email', email: 'alice@acme.com' }, { user: 'U0ALICE', email: '' })).toBe(false);
  });
});
