import { type Ask, type Asker, AskStore, followedRequest } from '../../shared/asks/index.js';
import { isJitgateError } from '../../shared/errors.js';
import { RequestIdSchema, type SlackUserId } from '../../shared/ids.js';
import type { FileAsk } from '../../shared/jobs/definitions.js';
import type { AskFiler } from '../../shared/jobs/notifier.js';
import type { BotDeps } from '../deps.js';
import { applyOutcome } from '../effects/apply.js';
import { sendDm } from '../slack/dm.js';

/**
 * The bot's side of a request asked for on a resource's page: find the person in Slack (their user
 * id from Sign in with Slack, or the Slack user with their verified e-mail), then file it through
 * the same use case as `/access` and carry out its effects the same way (the approval message, the
 * requester's DM). A person Slack does not know, or a request the policy refuses, is noted on the
 * ask for the page to show; a Slack or Redis failure is thrown, so the job is retried (the request's
 * id was chosen by the page, so a retry never files a second one).
 *
 * @example const worker = startWorker({ ..., asks: askFiler(deps) });
 */
export function askFiler(deps: BotDeps): AskFiler {
  const asks = new AskStore(deps.store.redis, deps.store.keys);
  return {
    async file(job: FileAsk) {
      if (await deps.store.queries.getRequest(job.requestId)) return 'already-filed';
      const user = await slackUserOf(deps, job.asker);
      if (!user) {
        await refuse(asks, job, noSlackUser(job.asker));
        return 'refused';
      }
      const pending = (await deps.store.queries.pendingRequestsOf(user)).find(
        (r) => r.resource === job.resource && r.kind === 'access',
      );
      if (pending) {
        // One pending request per person and resource: the page follows the one filed before.
        await note(asks, job, (ask) => ({ ...ask, requestId: pending.id }));
        return 'joined';
      }
      const email =
        job.asker.kind === 'email' ? job.asker.email : await deps.people.emailOf(user).catch(() => '');
      let outcome: Awaited<ReturnType<BotDeps['access']['request']>>;
      try {
        outcome = await deps.access.request({
          id: RequestIdSchema.parse(job.requestId),
          user,
          email,
          resource: job.resource,
          role: job.role,
          durationMs: job.durationMs,
          reason: job.reason,
          // Signed in with Slack: the workspace too, as a command records it.
          ...(job.asker.kind === 'slack' && job.asker.team ? { team: job.asker.team } : {}),
        });
      } catch (err) {
        // The policy said no (not allowed to request, a resource gone since): the page says why.
        if (!isJitgateError(err) || err.code === 'unavailable' || err.code === 'request_exists') throw err;
        await refuse(asks, job, err.message);
        return 'refused';
      }
      await applyOutcome(deps, outcome, { actor: user, tell: (text) => tellQuietly(deps, user, text) });
      return 'filed';
    },
  };
}

async function slackUserOf(deps: BotDeps, asker: Asker): Promise<SlackUserId | undefined> {
  return asker.kind === 'slack' ? asker.user : deps.people.userByEmail(asker.email);
}

function noSlackUser(asker: Asker): string {
  const who = asker.kind === 'email' ? asker.email : asker.user;
  return `jitgate found no Slack account for ${who}, so it cannot ask anyone to approve. Use the same e-mail address in Slack as at sign-in, or ask in Slack with /access.`;
}

/** The requester hears of their request by DM (as from the request form); a failed DM does not undo it. */
async function tellQuietly(deps: BotDeps, user: SlackUserId, text: string): Promise<void> {
  try {
    await sendDm(deps.client, user, text);
  } catch (err) {
    deps.log.warn({ err, user }, 'could not DM the requester about the request filed from a page');
  }
}

function refuse(asks: AskStore, job: FileAsk, message: string): Promise<void> {
  return note(asks, job, (ask) => ({ ...ask, refused: message }));
}

/** Updates the page's ask, when it is still the one this job is for. */
async function note(asks: AskStore, job: FileAsk, change: (ask: Ask) => Ask): Promise<void> {
  const { ask, raw } = await asks.read(job.asker, job.resource);
  if (!ask || ask.id !== job.requestId || followedRequest(ask) !== job.requestId) return;
  await asks.note(raw, change(ask));
}
