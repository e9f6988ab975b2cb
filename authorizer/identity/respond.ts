import type { ServerResponse } from 'node:http';
import { escapeHtml, htmlPage } from '../html-page.js';
import { prefersHtml } from '../refusal-response.js';

/**
 * Sign-in's answers: the same `{error, message, hint}` JSON as every refusal (an HTML page for
 * browsers), never cached, never leaking the URL (it may hold a code) through Referer.
 */
export type SignInCode =
  | 'signin_failed'
  | 'signin_refused'
  | 'return_invalid'
  | 'signin_unavailable'
  | 'code_unknown'
  | 'signed_out';

const STATUS: Record<SignInCode, number> = {
  signin_failed: 400,
  return_invalid: 400,
  signin_refused: 403,
  code_unknown: 404,
  signin_unavailable: 503,
  signed_out: 200,
};

export const NO_STORE = { 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' } as const;

export function signInPage(title: string, text: string, status: number, code: string): string {
  return htmlPage({ title, body: `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p>`, status, code });
}

/** Writes a sign-in answer; `cookies` are Set-Cookie values to send with it (e.g. a cleared transaction). */
export function sendSignIn(
  res: ServerResponse,
  accept: string | undefined,
  answer: { code: SignInCode; message: string; hint: string },
  cookies: string[] = [],
): void {
  const status = STATUS[answer.code];
  const html = prefersHtml(accept);
  const body = html
    ? signInPage(answer.message, answer.hint, status, answer.code)
    : JSON.stringify({ error: answer.code, message: answer.message, hint: answer.hint });
  if (cookies.length > 0) res.setHeader('Set-Cookie', cookies);
  res.writeHead(status, {
    ...NO_STORE,
    'Content-Type': html ? 'text/html; charset=utf-8' : 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(body);
}

/** A 303 to `location` (always a URL jitgate built) with `cookies` set. */
export function redirect(res: ServerResponse, location: string, cookies: string[] = []): void {
  if (cookies.length > 0) res.setHeader('Set-Cookie', cookies);
  res.writeHead(303, { ...NO_STORE, Location: location, 'Content-Length': 0 });
  res.end();
}
