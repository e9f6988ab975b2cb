import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type Request, type Response, type Router } from 'express';
import { STEP_UP_TTL_MS, StepUpStore, type StepUpTicket } from '../../shared/approvals/step-up.js';
import type { Clock } from '../../shared/clock.js';
import { formatDuration } from '../../shared/duration.js';
import type { AccessRequest } from '../../shared/grants/records.js';
import type { AccessStore } from '../../shared/grants/store.js';
import type { JobScheduler } from '../../shared/jobs/scheduler.js';
import type { Logger } from '../../shared/log.js';
import type { SigningKeys } from '../../shared/tokens/index.js';
import { csrfToken, csrfValid, sameOrigin } from '../ask/csrf.js';
import { sendPage } from '../ask/pages.js';
import { signedInAs } from '../checks/session.js';
import { escapeHtml } from '../html-page.js';
import { isHolder } from '../identity/person.js';
import type { Session } from '../identity/session.js';

/** How long after a step-up sign-in its session may confirm approvals. */
export const STEP_UP_WINDOW_SEC = 5 * 60;

export interface ApprovalDeps {
  liveSessionOf: (req: IncomingMessage) => Promise<Session | undefined>;
  /** Sends the browser to sign in afresh at the IdP (max_age=0) and back to `path`. */
  startStepUp: (req: IncomingMessage, res: ServerResponse, path: string) => Promise<void>;
  store: Pick<AccessStore, 'queries' | 'redis' | 'keys'>;
  /** Where the confirmed approval goes to the bot's side (the authorizer holds no Slack token). */
  scheduler: Pick<JobScheduler, 'approvalConfirmed'>;
  keys: SigningKeys;
  publicUrl: string;
  clock: Clock;
  log: Logger;
}

const PATH = '/_jitgate/approve';

/**
 * Step-up for approvers (approverStepUp): Approve in Slack gives the approver a one-time link here.
 * `GET /_jitgate/approve?code=` wants a session whose person is that approver and who signed in
 * afresh at the IdP moments ago (else it starts such a sign-in and comes back), then shows the
 * request and a Confirm button; `POST` (same checks, this origin, an anti-forgery token bound to the
 * session and the code) uses the code up and queues the approval for the bot's side, which counts it
 * through the same use case as the button, marked as confirmed.
 */
export function registerApprovals(router: Router, deps: ApprovalDeps): void {
  const steps = new StepUpStore(deps.store.redis, deps.store.keys);
  const publicUrl = new URL(deps.publicUrl);
  router.get(PATH, (req, res) => show(req, res).catch((err: unknown) => failed(res, err)));
  router.post(PATH, express.urlencoded({ extended: false, limit: '4kb' }), (req, res) =>
    confirm(req, res).catch((err: unknown) => failed(res, err)),
  );

  /** The ticket and a session that may act on it now, or the answer already sent. */
  async function checked(
    req: Request,
    res: Response,
    code: string,
  ): Promise<{ ticket: StepUpTicket; session: Session } | undefined> {
    const ticket = await steps.read(code);
    if (!ticket) {
      plain(
        res,
        410,
        'code_unknown',
        'This confirmation link is used up or expired',
        'Click Approve in Slack again for a new one.',
      );
      return undefined;
    }
    const session = await deps.liveSessionOf(req);
    const nowSec = Math.floor(deps.clock.now() / 1000);
    // A step-up sign-in of the last few minutes, made after this Approve was clicked (the session's
    // own start, on our clock): one made for an earlier approval does not confirm a later click.
    const fresh =
      session?.stepUpAt !== undefined &&
      session.stepUpAt >= nowSec - STEP_UP_WINDOW_SEC &&
      session.iat >= Math.floor(ticket.clickedAt / 1000);
    if (!session || !fresh) {
      if (req.method !== 'GET') {
        plain(
          res,
          401,
          'signin_required',
          'Sign in again first',
          'Open the confirmation link again: it asks you to sign in afresh, then shows the request.',
        );
        return undefined;
      }
      await deps.startStepUp(req, res, `${PATH}?code=${encodeURIComponent(code)}`);
      return undefined;
    }
    if (!isHolder(session.person, { user: ticket.approver, email: ticket.email, team: ticket.team })) {
      deps.log.warn(
        { requestId: ticket.requestId, approver: ticket.approver, sid: session.sid },
        'step-up refused: signed in as someone else',
      );
      plain(
        res,
        403,
        'not_the_approver',
        'This confirmation is someone else’s',
        `You are signed in as ${signedInAs(session)}, but this approval was clicked by another person in Slack. Nothing was approved.`,
      );
      return undefined;
    }
    return { ticket, session };
  }

  async function show(req: Request, res: Response): Promise<void> {
    const code = typeof req.query.code === 'string' ? req.query.code : '';
    const ok = await checked(req, res, code);
    if (!ok) return;
    const request = await deps.store.queries.getRequest(ok.ticket.requestId);
    if (request?.status !== 'pending') {
      plain(
        res,
        409,
        'request_not_pending',
        'Nothing to approve',
        'This request has been decided or has expired.',
      );
      return;
    }
    const token = csrfToken(deps.keys, formBinding(ok.session, code));
    sendPage(res, 200, {
      title: `approve ${request.resource}`,
      code: 'step_up',
      body: `<h1>Confirm your approval</h1>${summary(request)}
<p>Signed in afresh as <strong>${escapeHtml(signedInAs(ok.session))}</strong>. Your approval counts once you confirm it here.</p>
<form method="post" action="${PATH}">
<input type="hidden" name="code" value="${escapeHtml(code)}">
<input type="hidden" name="csrf" value="${escapeHtml(token)}">
<button type="submit">Confirm approval</button>
</form>
<p><small>This link works for ${formatDuration(STEP_UP_TTL_MS)} after you clicked Approve, once.</small></p>`,
    });
  }

  async function confirm(req: Request, res: Response): Promise<void> {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const code = typeof body.code === 'string' ? body.code : '';
    if (!sameOrigin(req, publicUrl)) {
      plain(
        res,
        403,
        'csrf_refused',
        'Confirmation refused',
        'This confirmation was sent from another site. Open the link from Slack again.',
      );
      return;
    }
    const ok = await checked(req, res, code);
    if (!ok) return;
    if (!csrfValid(deps.keys, formBinding(ok.session, code), body.csrf)) {
      plain(
        res,
        403,
        'csrf_refused',
        'Confirmation refused',
        'This form is out of date or not yours. Open the link from Slack again.',
      );
      return;
    }
    const ticket = await steps.take(code);
    if (!ticket) {
      plain(
        res,
        410,
        'code_used',
        'Already confirmed',
        'This approval was confirmed already; Slack shows it.',
      );
      return;
    }
    await deps.scheduler.approvalConfirmed(ticket.requestId, ticket.approver);
    deps.log.info(
      { requestId: ticket.requestId, approver: ticket.approver, sid: ok.session.sid },
      'approval confirmed with a fresh sign-in',
    );
    plain(
      res,
      200,
      'confirmed',
      'Approval confirmed',
      'It is counted in a moment: the request’s message in Slack will show it, and the requester is told.',
    );
  }

  function plain(res: Response, status: number, code: string, title: string, text: string): void {
    sendPage(res, status, { title, body: `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p>`, code });
  }

  function failed(res: Response, err: unknown): void {
    deps.log.warn({ err }, 'step-up: could not complete');
    if (!res.headersSent)
      plain(
        res,
        503,
        'unavailable',
        'Try again in a moment',
        'jitgate cannot reach its store right now, so nothing was approved.',
      );
  }
}

/** The anti-forgery token's input: this session and this code, so one is worth nothing for the other. */
function formBinding(session: Session, code: string): string {
  return `approve:${session.sid}:${code}`;
}

function summary(request: AccessRequest): string {
  const rows: [string, string][] = [
    ['Requester', request.email ? `${request.requester} (${request.email})` : request.requester],
    ['Resource', `${request.resource}/${request.role}`],
    [request.kind === 'extension' ? 'Extra time' : 'Duration', formatDuration(request.durationMs)],
    ['Reason', request.reason],
    ['Approvals so far', `${request.approvals.length} of ${request.approvalsRequired}`],
  ];
  return `<table>${rows.map(([k, v]) => `<tr><th align="left">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</table>`;
}
