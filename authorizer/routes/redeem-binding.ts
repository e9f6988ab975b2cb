import type { Request, Response } from 'express';
import { GRANT_REFUSALS_AUDITED } from '../../shared/audit/refusal-counts.js';
import type { Clock } from '../../shared/clock.js';
import { errorFor } from '../../shared/errors.js';
import { isLive } from '../../shared/grants/live.js';
import type { AccessStore } from '../../shared/grants/store.js';
import type { Logger } from '../../shared/log.js';
import type { Policy } from '../../shared/policy/index.js';
import type { ClientResolver } from '../checks/client-address.js';
import { signedInAs } from '../checks/session.js';
import { isHolder, type SignIn } from '../identity/index.js';
import { sendRefusal } from '../refusal-response.js';
import { refusal } from '../refusals.js';

/** Where the holder hears that someone else opened their link: a job for the bot's worker. */
export interface RedeemRefusals {
  redeemRefused(attempt: {
    requestId: string;
    grantId: string;
    openedBy: string;
    client?: string;
  }): Promise<void>;
}

export interface RedeemBindingDeps {
  signIn: Pick<SignIn, 'liveSessionOf' | 'signInThenBack'>;
  store: Pick<AccessStore, 'codes' | 'queries' | 'transitions'>;
  /** Absent: the refusal is audited and logged, but nobody is told (no queue in this process). */
  jobs: RedeemRefusals | undefined;
  policy: () => Policy;
  resolveClient: ClientResolver;
  clock: Clock;
  log: Logger;
}

/** The longest a label about the person or their address may be in the audit and the DM. */
const MAX_LABEL = 200;

/**
 * With sign-in on, a redeem link is its holder's only, JSON (command-line) redeems included: before
 * anything is consumed, the request must carry a session (a browser without one is sent to sign in
 * and brought back to the link) of the person the link's grant was issued to. A command line has no
 * session, so a JSON redeem without one is refused as signin_required, its hint the link to open in
 * the holder's browser instead (`commandLineLink`). Anyone else signed in is refused, the code
 * stays unused, `grant.redeem_refused` is audited with their client address, and the holder is told
 * by DM (a job: the authorizer has no Slack token). Answers 'redeem' when the holder may go on, or
 * 'answered' when the response was written here. An unknown, used or ended code goes on to the
 * redeem, which says so as it always has.
 */
export async function holderOnly(
  deps: RedeemBindingDeps,
  req: Request,
  res: Response,
  link: { code: string; json: boolean; commandLineLink: string },
): Promise<'redeem' | 'answered'> {
  const grantId = await deps.store.codes.redeemCodeGrant(link.code);
  const grant = grantId ? await deps.store.queries.liveGrant(grantId) : undefined;
  if (!isLive(grant, deps.clock.now())) return 'redeem';
  const session = await deps.signIn.liveSessionOf(req);
  const resource = deps.policy().resources.get(grant.resource);
  if (!session) {
    if (!link.json && (await deps.signIn.signInThenBack(req, res))) return 'answered';
    deps.log.info({ grantId: grant.id, resource: grant.resource }, 'redeem refused: no session');
    const refused = refusal('signin_required', { resource });
    const hint = `Open ${link.commandLineLink} in a browser signed in as yourself (the person it was sent to): it shows your token once, with the commands that use it.`;
    sendRefusal(res, link.json ? { ...refused, hint } : refused, req.headers.accept);
    return 'answered';
  }
  // A Slack sign-in holds the grant only in the workspace its request came from (when recorded),
  // as on the session's path; the live grant does not carry it, its request does.
  const request =
    session.person.kind === 'slack' ? await deps.store.queries.getRequest(grant.requestId) : undefined;
  const holder = session.person.kind === 'slack' ? request && { ...grant, team: request.team } : grant;
  // No request to say which workspace: unknown, so not the holder (fail closed).
  if (holder !== undefined && isHolder(session.person, holder)) return 'redeem';

  const openedBy = label(signedInAs(session));
  const client = label(deps.resolveClient(req.socket.remoteAddress, forwardedFor(req)).client?.toString());
  deps.log.warn(
    { grantId: grant.id, resource: grant.resource, openedBy, client },
    'redeem refused: not the holder',
  );
  await Promise.allSettled([
    // Bounded like every refusal about a real grant: at most GRANT_REFUSALS_AUDITED per grant.
    deps.store.transitions
      .auditGrantRefusal(
        grant.id,
        {
          type: 'grant.redeem_refused',
          actor: openedBy,
          subject: grant.user,
          resource: grant.resource,
          role: grant.role,
          grantId: grant.id,
          requestId: grant.requestId,
          client,
          reason: 'not the holder',
          idp: label(session.idp),
        },
        GRANT_REFUSALS_AUDITED,
      )
      .catch((err: unknown) => deps.log.warn({ err }, 'could not audit grant.redeem_refused')),
    deps.jobs
      ?.redeemRefused({
        requestId: grant.requestId,
        grantId: grant.id,
        openedBy,
        ...(client ? { client } : {}),
      })
      .catch((err: unknown) => deps.log.warn({ err }, 'could not queue the DM to the link holder')),
  ]);
  const refused = errorFor('not_the_holder', { signedInAs: openedBy });
  sendRefusal(res, refusal('not_the_holder', { resource }, refused.message), req.headers.accept);
  return 'answered';
}

function label(text: string): string;
function label(text: string | undefined): string | undefined;
function label(text: string | undefined): string | undefined {
  return text === undefined ? undefined : text.replace(/[\p{C}]/gu, '').slice(0, MAX_LABEL);
}

function forwardedFor(req: Request): string | undefined {
  const h = req.headers['x-forwarded-for'];
  return Array.isArray(h) ? h.join(', ') : h;
}
