import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../shared/log.js';
import { messageOf } from '../shared/messages.js';
import type { Policy } from '../shared/policy/index.js';
import { requestTargetProblem } from './checks/path.js';
import type { RefusalRecorder } from './refusal-records.js';
import { sendRefusal } from './refusal-response.js';
import { refusal } from './refusals.js';
import { slashTarget } from './routes/prefix-slash.js';

/**
 * The authorizer's HTTP request listener, on plain node:http. Every request is logged (one access
 * log line) and its target judged first (the path guard: an ambiguous target is refused 400 before
 * anything routes on it); then jitgate's own routes (`/_jitgate/…`: redeem, sign-in, the request
 * form, ops, JWKS) and the 308 from `/prefix` to `/prefix/` go to Express, where they earn its
 * cost; every other request is a proxied one and never touches Express (it costed about 300 µs a
 * request): the gate, then the upstream.
 *
 * @example const server = createServer(createFront({ express: app, proxied, policy, refusals, logRequest, log }));
 */
export function createFront(deps: {
  /** The Express app of the authorizer's own routes. */
  express: (req: IncomingMessage, res: ServerResponse) => void;
  /** Authorizes and proxies one request (routes/proxied.ts). */
  proxied: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  policy: () => Policy;
  refusals: Pick<RefusalRecorder, 'refused'>;
  /** Starts the request's access log line, written when the response closes. */
  logRequest: (req: IncomingMessage, res: ServerResponse) => void;
  log: Logger;
}) {
  return function front(req: IncomingMessage, res: ServerResponse): void {
    deps.logRequest(req, res);
    const url = req.url ?? '';
    const problem = requestTargetProblem(url);
    if (problem) {
      // Names no resource and no grant: counted (`|bad_path`), nothing of the target stored.
      deps.refusals.refused({ resource: undefined, reason: 'bad_path', grantId: undefined });
      sendRefusal(res, refusal('bad_path', {}, messageOf('bad_path', { problem })), req.headers.accept);
      return;
    }
    if (isOwnPath(url) || slashTarget(deps.policy(), req.headers.host, url) !== undefined) {
      deps.express(req, res);
      return;
    }
    deps.proxied(req, res).catch((err: unknown) => {
      deps.log.error({ err }, 'request failed');
      sendRefusal(res, refusal('internal_error'), req.headers.accept);
    });
  };
}

const OWN = '/_jitgate';

/**
 * `/_jitgate` and anything under it, in any case (Express matches its routes case-insensitively, so
 * `/_JITGATE/healthz` is its route too, and was never a resource's path).
 */
export function isOwnPath(url: string): boolean {
  if (url.length < OWN.length) return false;
  for (let i = 0; i < OWN.length; i += 1) {
    const c = url.charCodeAt(i);
    // ASCII letters compared lower-cased.
    if ((c >= 65 && c <= 90 ? c + 32 : c) !== OWN.charCodeAt(i)) return false;
  }
  const next = url.charCodeAt(OWN.length);
  return Number.isNaN(next) || next === 47 /* / */ || next === 63; /* ? */
}
