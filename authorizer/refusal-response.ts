import { type ServerResponse, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { escapeHtml, htmlPage } from './html-page.js';
import { type Refusal, statusFor } from './refusals.js';

/** True when the client prefers an HTML page (a browser) to JSON. */
export function prefersHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  const html = accept.indexOf('text/html');
  if (html === -1) return false;
  const json = accept.indexOf('application/json');
  return json === -1 || html < json;
}

/**
 * A small page for people: what happened and what to do, nothing else. With sign-in on, `signedInAs`
 * names the person the page is for: "Signed in as alice@acme.com", then what they lack and exactly
 * what to type in Slack. (A request form, where one is offered, is a page of its own: ask/pages.ts.)
 */
export function refusalPage(r: Refusal, status: number, signedInAs?: string): string {
  const heading =
    signedInAs === undefined
      ? `<h1>${escapeHtml(r.message)}</h1><p>${escapeHtml(r.hint)}</p>`
      : signedInHeading(r, signedInAs);
  return htmlPage({ title: r.message, body: heading, status, code: r.code });
}

/** The codes that mean "you hold no live grant here": the heading says so plainly. */
const NO_ACCESS = new Set(['no_grant', 'grant_expired', 'grant_revoked']);

function signedInHeading(r: Refusal, who: string): string {
  const resource = /^\/access ([a-z0-9_-]+)/.exec(r.hint)?.[1];
  const title =
    NO_ACCESS.has(r.code) && resource
      ? `Signed in as ${escapeHtml(who)} — you have no access to ${escapeHtml(resource)}`
      : `Signed in as ${escapeHtml(who)}`;
  // A hint that is a Slack command is what to type; any other hint is said as it is.
  const todo = r.hint.startsWith('/access')
    ? `To get access, type <code>${escapeHtml(r.hint)}</code> in Slack; your approvers are asked there.`
    : escapeHtml(r.hint);
  return `<h1>${title}</h1><p id="why">${escapeHtml(r.message)}</p><p id="todo">${todo}</p>`;
}

/** The refusal as a body and its content type. */
export function refusalBody(
  r: Refusal,
  html: boolean,
  status: number,
  signedInAs?: string,
): { type: string; body: string } {
  return html
    ? { type: 'text/html; charset=utf-8', body: refusalPage(r, status, signedInAs) }
    : {
        type: 'application/json; charset=utf-8',
        body: JSON.stringify({ error: r.code, message: r.message, hint: r.hint }),
      };
}

function refusalHeaders(status: number, type: string, body: string): Record<string, string | number> {
  const headers: Record<string, string | number> = {
    'Content-Type': type,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  };
  if (status === 401) headers['WWW-Authenticate'] = 'Bearer realm="jitgate"';
  return headers;
}

/** Writes a refusal as the response (JSON, or HTML for browsers, naming who is signed in when known). */
export function sendRefusal(
  res: ServerResponse,
  r: Refusal,
  accept: string | undefined,
  signedInAs?: string,
): void {
  const status = statusFor(r.code);
  if (res.headersSent) {
    // The upstream already started answering: all we can do is cut the response short.
    res.destroy();
    return;
  }
  const { type, body } = refusalBody(r, prefersHtml(accept), status, signedInAs);
  res.writeHead(status, refusalHeaders(status, type, body));
  res.end(body);
}

/**
 * Writes a refusal as a plain HTTP response on a raw socket (a refused upgrade or CONNECT: no 101
 * is ever sent) and closes it.
 */
export function refuseSocket(socket: Duplex, r: Refusal, accept: string | undefined): void {
  const status = statusFor(r.code);
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const { type, body } = refusalBody(r, prefersHtml(accept), status);
  const head = Object.entries({ ...refusalHeaders(status, type, body), Connection: 'close' })
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n');
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n${head}\r\n\r\n${body}`, () =>
    socket.destroy(),
  );
}
