import type { Outcome } from '../../shared/access/effects.js';
import { StepUpStore } from '../../shared/approvals/step-up.js';
import { isJitgateError } from '../../shared/errors.js';
import { type RequestId, RequestIdSchema, type SlackUserId, SlackUserIdSchema } from '../../shared/ids.js';
import type { ConfirmedApprovals } from '../../shared/jobs/notifier.js';
import type { Resource } from '../../shared/policy/types.js';
import type { BotDeps } from '../deps.js';
import { applyOutcome } from '../effects/apply.js';
import { sendDm } from '../slack/dm.js';
import { stepUpReply } from '../views/replies.js';

/**
 * Approve on a resource with approverStepUp: nothing is counted yet. The approver (checked: may
 * decide it, still pending) gets a one-time link, for them only and for 10 minutes, to a page where
 * they sign in afresh at the IdP and confirm; the confirmation comes back as an `approve-confirmed`
 * job (see confirmedApprovals). Answers the reply for the approver.
 */
export async function askStepUp(
  deps: BotDeps,
  request: { id: RequestId },
  resource: Resource,
  approver: SlackUserId,
  team: string | undefined,
): Promise<string> {
  if (!deps.stepUpUrl) {
    // The policy asks for a fresh sign-in that this deployment cannot do: nothing can count.
    deps.log.error({ resource: resource.name }, 'approverStepUp is set but sign-in is not configured');
    return `Approvals of ${resource.name} need a fresh sign-in in the browser, and sign-in is not configured here: tell the jitgate operators (JITGATE_OIDC_*).`;
  }
  await deps.access.decidable(request.id, approver);
  const email = await deps.people.emailOf(approver).catch(() => '');
  const steps = new StepUpStore(deps.store.redis, deps.store.keys);
  const code = await steps.create({
    requestId: request.id,
    approver,
    email,
    clickedAt: deps.clock.now(),
    ...(team ? { team } : {}),
  });
  return stepUpReply(resource, deps.stepUpUrl(code));
}

/**
 * The bot's side of an approval confirmed in the browser: counted through the same use case as the
 * Approve button (the policy's user groups, self-approval, the request still pending), marked as
 * confirmed, and its effects carried out. A refusal (no longer pending, not an approver any more)
 * is told to the approver; a Slack or Redis failure is thrown, so the job is retried.
 */
export function confirmedApprovals(deps: BotDeps): ConfirmedApprovals {
  return {
    async approve(requestId: string, approverId: string) {
      const id = RequestIdSchema.parse(requestId);
      const approver = SlackUserIdSchema.parse(approverId);
      let outcome: Outcome;
      try {
        outcome = await deps.access.approve(id, approver, { steppedUp: true });
      } catch (err) {
        if (!isJitgateError(err) || err.code === 'unavailable') throw err;
        await sendDm(deps.client, approver, `Your confirmed approval was not counted: ${err.message}`).catch(
          (dmErr: unknown) => deps.log.warn({ err: dmErr }, 'could not tell the approver'),
        );
        return 'refused';
      }
      await applyOutcome(deps, outcome, {
        actor: approver,
        tell: (text) => sendDm(deps.client, approver, text).then(() => undefined),
      });
      return 'approved';
    },
  };
}
