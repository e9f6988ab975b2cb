import type { KnownBlock } from '@slack/types';
import { describe, expect, it } from 'vitest';
import { approvalMessage } from '../../bot/views/approval-message.js';
import {
  breakGlassAlert,
  deniedDm,
  escalationDm,
  expiringSoonDm,
  grantEndedDm,
  grantedDm,
  nudgeDm,
  redeemRefusedDm,
  requestExpiredDm,
} from '../../bot/views/dm.js';
import { homeView } from '../../bot/views/home.js';
import { dateToken } from '../../bot/views/mrkdwn.js';
import type { RequestId, SlackUserId } from '../../shared/ids.js';
import { approved, GID, grafana, MIN, NOW, pending, RID, U } from './bot-views-fixtures.js';

/** Every string in the blocks, so assertions read what a person would see. */
function textOf(blocks: readonly unknown[]): string {
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) if (k !== 'action_id' && k !== 'value' && k !== 'type') walk(x);
    }
  };
  walk(blocks);
  return out.join('\n');
}

function buttonsOf(
  blocks: readonly KnownBlock[],
): { action_id: string; value?: string; style?: string; url?: string }[] {
  const found: { action_id: string; value?: string; style?: string; url?: string }[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o.type === 'button') found.push(o as never);
      Object.values(o).forEach(walk);
    }
  };
  walk(blocks);
  return found;
}

const JWT = /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/;

describe('approvalMessage', () => {
  it('when pending with 1 of 2 approvals, then it shows who, what, the flags, the deadline and Approve/Deny', () => {
    const request = pending({ approvals: [U('U0BOB')], breakGlass: false });
    const msg = approvalMessage(request, grafana, NOW);
    const text = textOf(msg.blocks);

    expect(text).toContain('<@U0CAROL>');
    expect(text).toContain('carol@example.com');
    expect(text).toContain('grafana');
    expect(text).toContain('Production Grafana');
    expect(text).toContain('viewer');
    expect(text).toContain('2h');
    expect(text).toContain('INC-123 dashboards');
    expect(text).toContain('1 of 2: <@U0BOB>');
    expect(text).toContain(
      `<!date^${Math.floor(request.pendingUntil / 1000)}^{date_short_pretty} at {time}|`,
    );
    expect(buttonsOf(msg.blocks)).toEqual([
      expect.objectContaining({ action_id: 'jit_approve', value: RID, style: 'primary' }),
      expect.objectContaining({ action_id: 'jit_deny', value: RID, style: 'danger' }),
    ]);
    expect(msg.text).toContain('<@U0CAROL> asks for grafana/viewer for 2h');
    expect(msg.text).toContain('1 of 2');
  });

  it('when the request is an extension or break-glass, then the flags say so', () => {
    const ext = approvalMessage(
      pending({ kind: 'extension', extendsGrant: GID, durationMs: 60 * MIN }),
      grafana,
      NOW,
    );
    expect(textOf(ext.blocks)).toContain(`extension* of grant \`${GID}\``);
    const glass = approvalMessage(
      approved({ breakGlass: true, approvals: [], decidedBy: U('U0CAROL') }),
      grafana,
      NOW,
    );
    expect(textOf(glass.blocks)).toContain('break-glass');
    expect(glass.text).toContain('Break-glass');
  });

  it('when approved and active, then the buttons give way to who approved, the expiry token and Revoke', () => {
    const request = approved();
    const msg = approvalMessage(request, grafana, NOW);
    const text = textOf(msg.blocks);

    expect(text).toContain('Approved* by <@U0ALICE> and <@U0BOB>');
    expect(text).toContain(dateToken(request.decidedAt!));
    expect(text).toContain(`*Expires at* ${dateToken(request.expiresAt!)}`);
    expect(text).toContain(`<!date^${Math.floor(request.expiresAt! / 1000)}^`);
    const buttons = buttonsOf(msg.blocks);
    expect(buttons).toEqual([
      expect.objectContaining({ action_id: 'jit_revoke', value: GID, style: 'danger' }),
    ]);
    expect(msg.text).toContain('approved; expires at');
  });

  it('when denied, then it says by whom and why, with no buttons', () => {
    const msg = approvalMessage(
      pending({
        status: 'denied',
        decidedBy: U('U0ALICE'),
        decidedAt: NOW,
        denyReason: 'use <!channel> read-only',
      }),
      grafana,
      NOW,
    );
    const text = textOf(msg.blocks);
    expect(text).toContain('Denied* by <@U0ALICE>');
    expect(text).toContain('use &lt;!channel&gt; read-only');
    expect(text).not.toContain('<!channel>');
    expect(buttonsOf(msg.blocks)).toEqual([]);
    expect(msg.text).toContain('denied by <@U0ALICE>');
  });

  it('when expired undecided, then it says no decision came in time', () => {
    const msg = approvalMessage(pending({ status: 'expired', decidedAt: NOW }), grafana, NOW);
    expect(textOf(msg.blocks)).toContain('Expired undecided');
    expect(textOf(msg.blocks)).toContain('no decision within 30m');
    expect(buttonsOf(msg.blocks)).toEqual([]);
  });

  it('when cancelled, then it says by the requester', () => {
    const msg = approvalMessage(
      pending({ status: 'cancelled', decidedBy: U('U0CAROL'), decidedAt: NOW }),
      grafana,
      NOW,
    );
    expect(textOf(msg.blocks)).toContain('Cancelled* by <@U0CAROL>');
    expect(buttonsOf(msg.blocks)).toEqual([]);
  });

  it('when the grant was revoked, then it says by whom and when, and Revoke is gone', () => {
    const msg = approvalMessage(
      approved({ grantStatus: 'revoked', endedBy: U('U0ALICE'), endedAt: NOW - 2 * MIN }),
      grafana,
      NOW,
    );
    const text = textOf(msg.blocks);
    expect(text).toContain(`Revoked* by <@U0ALICE> · ${dateToken(NOW - 2 * MIN)}`);
    expect(buttonsOf(msg.blocks)).toEqual([]);
    expect(msg.text).toContain('revoked by <@U0ALICE>');
  });

  it('when the grant expired (or its time is past though the worker has not run yet), then it says expired at', () => {
    const ended = approvalMessage(approved({ grantStatus: 'expired', endedAt: NOW - MIN }), grafana, NOW);
    expect(textOf(ended.blocks)).toContain(`*Expired at* ${dateToken(NOW - MIN)}`);
    expect(buttonsOf(ended.blocks)).toEqual([]);
    const late = approvalMessage(approved({ expiresAt: NOW - 1000 }), grafana, NOW);
    expect(textOf(late.blocks)).toContain('*Expired at*');
    expect(buttonsOf(late.blocks)).toEqual([]);
  });

  it('when auto-approved, then it names the policy, not a user called jitgate', () => {
    const msg = approvalMessage(
      approved({ approvals: [], decidedBy: 'jitgate' as SlackUserId }),
      grafana,
      NOW,
    );
    expect(textOf(msg.blocks)).toContain('Approved automatically');
    expect(textOf(msg.blocks)).not.toContain('<@jitgate>');
  });

  it('when the resource left the policy, then it still renders with the name alone', () => {
    const msg = approvalMessage(pending(), undefined, NOW);
    expect(textOf(msg.blocks)).toContain('*grafana*');
  });
});

describe('DMs', () => {
  const url = 'https://access.example.com/_jitgate/redeem?code=Zm9vYmFyYmF6cXV4cXV1eDEyMzQ1Njc4';

  it('when granted, then the DM carries the redeem link (button and curl form) and no token', () => {
    const msg = grantedDm(approved(), url);
    const all = JSON.stringify(msg);
    expect(buttonsOf(msg.blocks)).toEqual([expect.objectContaining({ url, action_id: 'jit_open_link' })]);
    expect(textOf(msg.blocks)).toContain(`curl -H "Accept: application/json" '${url}'`);
    expect(textOf(msg.blocks)).toContain('single use, valid 10 minutes');
    expect(textOf(msg.blocks)).toContain(dateToken(NOW + 119 * MIN));
    expect(all).not.toMatch(JWT);
    expect(msg.text).not.toContain('code=');
  });

  it('when granted with sign-in on, then the DM opens the resource’s plain URL and keeps the link for the command line only, to be opened signed in', () => {
    const open = 'https://grafana.access.example.com/';
    const msg = grantedDm(approved(), url, { openUrl: open });
    expect(buttonsOf(msg.blocks)).toEqual([
      expect.objectContaining({ url: open, action_id: 'jit_open_link' }),
    ]);
    expect(msg.text).toContain(`open ${open}`);
    // A curl of the link has no session and is refused: the link is opened in the holder's browser.
    expect(textOf(msg.blocks)).not.toContain('Accept: application/json');
    expect(textOf(msg.blocks)).toContain(
      `For the command line, open this one-time link in a browser *signed in as yourself*`,
    );
    expect(textOf(msg.blocks)).toContain(`${url}&amp;for=command-line`);
    expect(textOf(msg.blocks)).toContain('yours only');
    expect(JSON.stringify(msg)).not.toMatch(JWT);
    // Without sign-in, the DM is as it always was.
    expect(grantedDm(approved(), url, undefined)).toEqual(grantedDm(approved(), url));
  });

  it('when granted with sign-in on for a bearer-only resource, then the button opens the command-line link, to be opened signed in', () => {
    const msg = grantedDm(approved(), url, { openUrl: undefined });
    expect(buttonsOf(msg.blocks)).toEqual([
      expect.objectContaining({ url: `${url}&for=command-line`, action_id: 'jit_open_link' }),
    ]);
    expect(textOf(msg.blocks)).toContain('reached from the command line with a bearer token');
    expect(textOf(msg.blocks)).toContain('*signed in as yourself*');
    expect(textOf(msg.blocks)).not.toContain('Accept: application/json');
    expect(msg.text).toContain('signed in as yourself');
    expect(msg.text).not.toContain('code=');
    expect(JSON.stringify(msg)).not.toMatch(JWT);
  });

  it('when someone else opened the holder’s link, then the DM says who and from where, that nothing was used, and how to end the grant', () => {
    const msg = redeemRefusedDm(approved(), { openedBy: 'bob@acme.com', client: '10.0.0.7' });
    expect(msg.text).toBe(
      'Someone else opened your link for grafana/viewer: bob@acme.com from 10.0.0.7. It was refused and nothing was used.',
    );
    expect(textOf(msg.blocks)).toContain(`/access revoke ${GID}`);
    expect(JSON.stringify(msg)).not.toMatch(JWT);
  });

  it('when denied, expired or ended, then the DM says what happened and what to do next', () => {
    expect(deniedDm(pending({ status: 'denied', decidedBy: U('U0ALICE'), denyReason: 'not now' })).text).toBe(
      'Your request for grafana/viewer was denied by <@U0ALICE>.',
    );
    const expired = requestExpiredDm(pending({ status: 'expired' }));
    expect(expired.text).toContain('no approver decided within 30m');
    expect(textOf(expired.blocks)).toContain('/access grafana/viewer 2h INC-123 dashboards');

    const soon = expiringSoonDm(approved({ expiresAt: NOW + 5 * MIN }), NOW);
    expect(soon.text).toBe('Your access to grafana/viewer ends in 5m.');
    expect(textOf(soon.blocks)).toContain(`/access extend ${GID} 1h &lt;reason&gt;`);

    expect(
      grantEndedDm(approved({ grantStatus: 'revoked', endedBy: U('U0ALICE'), endedAt: NOW })).text,
    ).toContain('revoked by <@U0ALICE>');
    expect(
      grantEndedDm(approved({ grantStatus: 'revoked', endedBy: U('U0CAROL'), endedAt: NOW })).text,
    ).toContain('revoked by you');
    expect(grantEndedDm(approved({ grantStatus: 'expired', endedAt: NOW })).text).toContain('has expired');
  });

  it('when nudging an approver, then the DM has the request and the same Approve/Deny buttons', () => {
    const msg = nudgeDm(pending({ approvals: [U('U0BOB')] }), grafana);
    expect(textOf(msg.blocks)).toContain('INC-123 dashboards');
    expect(textOf(msg.blocks)).toContain('1 of 2: <@U0BOB>');
    expect(buttonsOf(msg.blocks).map((b) => [b.action_id, b.value])).toEqual([
      ['jit_approve', RID],
      ['jit_deny', RID],
    ]);
  });

  it('when a request is escalated, then the DM says so with the buttons, and the approval message names who and after how long', () => {
    const escalated = pending({
      escalateTo: { users: [U('U0BOSS')], usergroups: ['S0LEADS'] },
      escalatedAt: NOW + 15 * MIN, // created 5 minutes before NOW
    });
    const dm = escalationDm(escalated, grafana);
    expect(textOf(dm.blocks)).toContain('*Escalated to you:*');
    expect(textOf(dm.blocks)).toContain('undecided for 20m');
    expect(buttonsOf(dm.blocks).map((b) => [b.action_id, b.value])).toEqual([
      ['jit_approve', RID],
      ['jit_deny', RID],
    ]);
    const message = textOf(approvalMessage(escalated, grafana, NOW + 21 * MIN).blocks);
    expect(message).toContain('*escalated* to <@U0BOSS>, <!subteam^S0LEADS> after 20m without a decision');
    // Not escalated (yet): no such line, even though the request names whom it would go to.
    const waiting = pending({ escalateTo: { users: [U('U0BOSS')], usergroups: [] } });
    expect(textOf(approvalMessage(waiting, grafana, NOW).blocks)).not.toContain('escalated');
  });

  it('when glass is broken, then the alert is loud and asks for a review', () => {
    const msg = breakGlassAlert(approved({ breakGlass: true }));
    expect(msg.text).toContain(':rotating_light:');
    expect(textOf(msg.blocks)).toContain('Review after');
  });
});

describe('homeView', () => {
  it('when there is nothing, then each section says so and how to start', () => {
    const view = homeView({ grants: [], pending: [], awaiting: [] }, NOW);
    expect(view.type).toBe('home');
    const text = textOf(view.blocks);
    expect(text).toContain('Type `/access` to ask for access');
    expect(text).toContain('No requests waiting');
    expect(text).not.toContain('Waiting for you');
    expect(buttonsOf(view.blocks as KnownBlock[])).toEqual([]);
  });

  it('when full, then grants have Revoke, pending requests Cancel, and awaiting ones Approve/Deny', () => {
    const other = 'r_bbbbbbbbbbbbbbbbbbbbbbbbbb' as RequestId;
    const view = homeView(
      {
        grants: [approved({ expiresAt: NOW + 72 * MIN })],
        pending: [pending()],
        awaiting: [pending({ id: other, requester: U('U0DAVE') })],
      },
      NOW,
    );
    const text = textOf(view.blocks);
    expect(text).toContain('1h12m left');
    expect(text).toContain(dateToken(NOW + 72 * MIN));
    expect(text).toContain('Waiting for you (1)');
    expect(text).toContain('<@U0DAVE>');
    expect(buttonsOf(view.blocks as KnownBlock[]).map((b) => [b.action_id, b.value])).toEqual([
      ['jit_revoke', GID],
      ['jit_cancel', RID],
      ['jit_approve', other],
      ['jit_deny', other],
    ]);
    const blockIds = (view.blocks as { block_id?: string }[]).map((b) => b.block_id).filter(Boolean);
    expect(new Set(blockIds).size).toBe(blockIds.length);
  });
});
