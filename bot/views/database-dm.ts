import type { KnownBlock } from '@slack/types';
import { formatDuration } from '../../shared/duration.js';
import type { AccessRequest } from '../../shared/grants/records.js';
import type { SlackMessage } from './actions.js';
import { context, section } from './blocks.js';
import { dateToken, escapeText, resourceRole } from './mrkdwn.js';

/**
 * To the requester when access to a database (a `kind: postgres` resource) is granted: no browser
 * button (a browser cannot use it), but the one command that connects, `npm run psql -- '<link>'`,
 * and how to do it by hand (the token is psql's password). Never the token itself. With sign-in on
 * (`signIn`), a curl of the link is refused: it is opened in the holder's signed-in browser, which
 * shows the token and the psql command once.
 */
export function databaseGrantedDm(
  request: AccessRequest,
  redeemUrl: string,
  signIn: boolean,
): SlackMessage & { unfurl_links: false; unfurl_media: false } {
  const what = escapeText(resourceRole(request));
  const until = request.expiresAt !== undefined ? ` until ${dateToken(request.expiresAt)}` : '';
  const title =
    request.kind === 'extension'
      ? `:white_check_mark: Your access to the database *${what}* was extended${until}.`
      : `:white_check_mark: You have access to the database *${what}*${until} (${formatDuration(request.durationMs)}).`;
  const link = escapeText(redeemUrl);
  const how = signIn
    ? `Open this one-time link in a browser *signed in as yourself*: it shows your token (psql's password) and the psql command once (single use, valid 10 minutes, yours only):\n${escapeText(commandLine(redeemUrl))}`
    : 'Connect with psql from a terminal within 10 minutes (the link is single use, do not share it):\n' +
      `\`\`\`npm run psql -- '${link}'\`\`\`\n` +
      `Or by hand: \`curl -H 'Accept: application/json' '${link}'\` gives the token, which is the password (PGPASSWORD), and the connection string (\`postgres.psql\`).`;
  const blocks: KnownBlock[] = [section(`${title}\n${how}`)];
  if (request.grantId) {
    blocks.push(
      context(
        `Grant \`${request.grantId}\` · your sessions end when it does · end it early with \`/access revoke ${request.grantId}\``,
      ),
    );
  }
  const text = `${request.kind === 'extension' ? 'Your access to' : 'You have access to'} the database ${what}${until}. Connect with the link in this message within 10 minutes.`;
  // A link preview fetched by Slack would spend the one-time code before its owner could.
  return { text, blocks, unfurl_links: false, unfurl_media: false };
}

function commandLine(redeemUrl: string): string {
  const url = new URL(redeemUrl);
  url.searchParams.set('for', 'command-line');
  return url.href;
}
