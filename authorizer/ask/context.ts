import type { IncomingMessage } from 'node:http';
import type { Request, Response } from 'express';
import {
  type Ask,
  type Asker,
  type AskStatus,
  AskStore,
  askStatus,
  followedRequest,
} from '../../shared/asks/index.js';
import type { Clock } from '../../shared/clock.js';
import type { AccessStore } from '../../shared/grants/store.js';
import type { JobScheduler } from '../../shared/jobs/scheduler.js';
import type { Logger } from '../../shared/log.js';
import type { Policy, Resource } from '../../shared/policy/index.js';
import type { SigningKeys } from '../../shared/tokens/index.js';
import { signedInAs } from '../checks/session.js';
import { escapeHtml } from '../html-page.js';
import type { Session } from '../identity/session.js';
import { csrfToken } from './csrf.js';
import { type FormState, noAccessBody, requestForm, sendPage, waitingBody } from './pages.js';

export interface AskDeps {
  /** The live session of a request (its logout checked), or undefined; throws without Redis. */
  liveSessionOf: (req: IncomingMessage) => Promise<Session | undefined>;
  store: Pick<AccessStore, 'queries' | 'redis' | 'keys'>;
  /** Where the ask goes to the bot's side (the authorizer holds no Slack token). */
  scheduler: Pick<JobScheduler, 'askFiled'>;
  policy: () => Policy;
  keys: SigningKeys;
  publicUrl: string;
  clock: Clock;
  log: Logger;
}

/**
 * What the request form's routes and the refusal hook share, built once by createAsks: the asks in
 * Redis, and the pages (the form, the waiting page, a plain answer).
 */
export function askContext(deps: AskDeps) {
  const asks = new AskStore(deps.store.redis, deps.store.keys);
  const publicUrl = new URL(deps.publicUrl);

  async function statusOf(ask: Ask): Promise<AskStatus> {
    return askStatus(ask, await deps.store.queries.getRequest(followedRequest(ask)));
  }

  function noAccess(
    res: Response,
    session: Session,
    resource: Resource,
    why: string,
    returnPath: string,
    code: string,
    state?: FormState,
    status = 403,
  ) {
    const form = requestForm(resource, { csrf: csrfToken(deps.keys, session.sid), returnPath }, state);
    sendPage(res, status, {
      title: `no access to ${resource.name}`,
      body: noAccessBody(signedInAs(session), resource, why, form),
      code,
    });
  }

  function waiting(res: Response, resource: Resource, ask: Ask, status: AskStatus, httpStatus: number) {
    const query = `resource=${encodeURIComponent(resource.name)}&id=${encodeURIComponent(ask.id)}`;
    const page = waitingBody(
      resource,
      followedRequest(ask),
      { ...status, continueTo: ask.returnTo },
      `/_jitgate/ask/status?${query}`,
    );
    sendPage(res, httpStatus, {
      title: `request for ${resource.name}`,
      ...page,
      code: `request_${status.state}`,
    });
  }

  function plain(res: Response, status: number, code: string, title: string, text: string) {
    sendPage(res, status, { title, body: `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p>`, code });
  }

  /** The session's person's ask named by `?resource=&id=`, or a reason why not. */
  async function ownAsk(req: Request): Promise<{ resource: Resource; ask: Ask } | 'no_session' | 'unknown'> {
    const session = await deps.liveSessionOf(req);
    if (!session) return 'no_session';
    const name = typeof req.query.resource === 'string' ? req.query.resource : '';
    const id = typeof req.query.id === 'string' ? req.query.id : '';
    const resource = deps.policy().resources.get(name);
    if (!resource) return 'unknown';
    const { ask } = await asks.read(askerOf(session), resource.name);
    // Only the person who asked reads it (the key is theirs), and only by the id their page was given.
    if (!ask || ask.id !== id) return 'unknown';
    return { resource, ask };
  }

  return { deps, asks, publicUrl, statusOf, noAccess, waiting, plain, ownAsk };
}

export type AskContext = ReturnType<typeof askContext>;

/** Who asks, from a session: the Slack user (Sign in with Slack) or the verified e-mail. */
export function askerOf(session: Session): Asker {
  const p = session.person;
  return p.kind === 'slack'
    ? { kind: 'slack', user: p.user, team: p.team }
    : { kind: 'email', email: p.email };
}

/** A 303 to the page that follows `ask`. */
export function toWaiting(res: Response, resource: Resource, ask: Ask): void {
  const to = `/_jitgate/ask?resource=${encodeURIComponent(resource.name)}&id=${encodeURIComponent(ask.id)}`;
  res.writeHead(303, { Location: to, 'Cache-Control': 'no-store', 'Content-Length': 0 });
  res.end();
}

/** A JSON answer, never cached. */
export function json(res: Response, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(text);
}
