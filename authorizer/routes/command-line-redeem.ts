import type { Response } from 'express';
import type { Resource } from '../../shared/policy/index.js';
import { escapeHtml, htmlPage } from '../html-page.js';
import type { PostgresConnection } from '../postgres/connect-info.js';
import { prefersHtml } from '../refusal-response.js';

/**
 * The query parameter that asks, with sign-in on, for the token on a page in the holder's browser
 * instead of a cookie (the bot's DM adds it to the command-line link; DESIGN.md).
 */
export const FOR_COMMAND_LINE = 'for=command-line';

/**
 * The answer to a redeem link opened in a browser for a resource that takes bearer tokens only (a
 * pathPrefix resource without `browser: shared-origin`): no cookie, the code left unused, and the
 * exact commands that redeem it and use the token. A browser gets a page (200); any other client
 * that did not ask for JSON gets the same text with 406, so that a script notices.
 */
export function sendCommandLineRedeem(
  res: Response,
  args: {
    resource: Resource;
    pathPrefix: string;
    origin: string;
    code: string;
    accept: string | undefined;
    /** For a postgres resource: how psql reaches it. */
    postgres?: PostgresConnection | undefined;
  },
): void {
  const redeemUrl = `${args.origin}/_jitgate/redeem?code=${encodeURIComponent(args.code)}`;
  const resourceUrl = `${args.origin}${args.pathPrefix}/`;
  const database = args.resource.kind === 'postgres';
  const commands = database
    ? [
        `npm run psql -- '${redeemUrl}'`,
        '# or by hand: the "token" of this answer is the password',
        `curl -H 'Accept: application/json' '${redeemUrl}'`,
        `PGPASSWORD="$TOKEN" psql "${args.postgres?.psql ?? `dbname=${args.resource.name} sslmode=require`}"`,
      ]
    : [
        `curl -H 'Accept: application/json' '${redeemUrl}'`,
        `curl -H "Authorization: Bearer $TOKEN" ${resourceUrl}`,
      ];
  const title = database
    ? `${args.resource.name} is a database: connect with psql`
    : `${args.resource.name} is reached with a token from the command line`;
  const why = database
    ? 'A browser cannot use this access, so this link has not been used: it still works once, for 10 minutes from when it was sent.'
    : `${args.resource.name} takes bearer tokens only, not browser cookies, so this link has not been ` +
      'used: it still works once, for 10 minutes from when it was sent.';
  const how = database
    ? 'From a terminal in a jitgate checkout, the first command redeems it and starts psql with your token as the password; or redeem it yourself:'
    : 'Redeem it from a terminal, put the "token" of the answer in TOKEN, then send it:';
  res.set({ 'X-Content-Type-Options': 'nosniff' });
  if (prefersHtml(args.accept)) {
    const body =
      `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(why)}</p><p>${escapeHtml(how)}</p>` +
      `<pre id="commands">${commands.map(escapeHtml).join('\n')}</pre>`;
    res
      .status(200)
      .type('html')
      .send(htmlPage({ title, body, status: 200, code: 'command_line', style: PRE }));
    return;
  }
  res
    .status(406)
    .type('text/plain')
    .send(`${title}.\n${why}\n${how}\n\n  ${commands.join('\n  ')}\n`);
}

/**
 * With sign-in on, the holder's own browser (signed in as them) takes a command-line token: the code
 * is consumed and the bearer token shown here once, with the commands that use it. The token is in
 * this body only: never in a URL, a cookie or the log, and the route's no-store and no-referrer keep
 * it out of caches and Referer headers. Opening the link again answers that it was used (410).
 */
export function sendBearerTokenPage(
  res: Response,
  args: {
    resource: Resource;
    publicUrl: URL;
    token: string;
    expiresAt: number;
    accept: string | undefined;
    postgres?: PostgresConnection | undefined;
  },
): void {
  const commands =
    args.resource.kind === 'postgres'
      ? [
          `export PGPASSWORD='${args.token}'`,
          `psql "${args.postgres?.psql ?? `dbname=${args.resource.name} sslmode=require`}"`,
        ]
      : [
          `export TOKEN='${args.token}'`,
          `curl -H "Authorization: Bearer $TOKEN" ${resourceUrl(args.resource, args.publicUrl)}`,
        ];
  const title = `Your bearer token for ${args.resource.name}`;
  const until = `It works until ${new Date(args.expiresAt).toISOString()}, from any terminal.`;
  const once =
    'It is shown this once: the link is now used. Copy it now, keep it to yourself, and do not paste it into chats or tickets.';
  res.set({ 'X-Content-Type-Options': 'nosniff' });
  if (prefersHtml(args.accept)) {
    const body =
      `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(until)}</p><p><strong>${escapeHtml(once)}</strong></p>` +
      `<pre id="commands">${commands.map(escapeHtml).join('\n')}</pre>`;
    res
      .status(200)
      .type('html')
      .send(htmlPage({ title, body, status: 200, code: 'token', style: PRE }));
    return;
  }
  res
    .status(200)
    .type('text/plain')
    .send(`${title}.\n${until}\n${once}\n\n  ${commands.join('\n  ')}\n`);
}

const PRE =
  'pre{background:#f3f3f3;padding:.6rem;border-radius:3px;white-space:pre-wrap;word-break:break-all}';

/** Where a command line reaches the resource: its prefix on the public URL, or its own host. */
function resourceUrl(resource: Resource, publicUrl: URL): string {
  if ('pathPrefix' in resource.match) return `${publicUrl.origin}${resource.match.pathPrefix}/`;
  if (!('host' in resource.match)) return publicUrl.origin;
  const port = publicUrl.port ? `:${publicUrl.port}` : '';
  return `${publicUrl.protocol}//${resource.match.host.toLowerCase()}${port}/`;
}
