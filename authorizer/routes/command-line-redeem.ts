import type { Response } from 'express';
import type { Resource } from '../../shared/policy/index.js';
import { escapeHtml } from '../html-page.js';
import { prefersHtml } from '../refusal-response.js';

/**
 * The answer to a redeem link opened in a browser for a resource that takes bearer tokens only (a
 * pathPrefix resource without `browser: shared-origin`): no cookie, the code left unused, and the
 * exact commands that redeem it and use the token. A browser gets a page (200); any other client
 * that did not ask for JSON gets the same text with 406, so that a script notices.
 */
export function sendCommandLineRedeem(
  res: Response,
  args: { resource: Resource; pathPrefix: string; origin: string; code: string; accept: string | undefined },
): void {
  const redeemUrl = `${args.origin}/_jitgate/redeem?code=${encodeURIComponent(args.code)}`;
  const resourceUrl = `${args.origin}${args.pathPrefix}/`;
  const commands = [
    `curl -H 'Accept: application/json' '${redeemUrl}'`,
    `curl -H "Authorization: Bearer $TOKEN" ${resourceUrl}`,
  ];
  const title = `${args.resource.name} is reached with a token from the command line`;
  const why =
    `${args.resource.name} takes bearer tokens only, not browser cookies, so this link has not been ` +
    'used: it still works once, for 10 minutes from when it was sent.';
  const how = 'Redeem it from a terminal, put the "token" of the answer in TOKEN, then send it:';
  res.set({ 'X-Content-Type-Options': 'nosniff' });
  if (prefersHtml(args.accept)) {
    res
      .status(200)
      .type('html')
      .send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>jitgate: ${escapeHtml(title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:48rem;margin:4rem auto;padding:0 1rem;color:#222}
pre{background:#f3f3f3;padding:.6rem;border-radius:3px;white-space:pre-wrap;word-break:break-all}</style></head>
<body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(why)}</p><p>${escapeHtml(how)}</p>
<pre id="commands">${commands.map(escapeHtml).join('\n')}</pre></body></html>
`);
    return;
  }
  res
    .status(406)
    .type('text/plain')
    .send(`${title}.\n${why}\n${how}\n\n  ${commands.join('\n  ')}\n`);
}
