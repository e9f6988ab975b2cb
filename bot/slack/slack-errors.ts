import { PermanentFailure } from '../../shared/jobs/notifier.js';

/**
 * Slack answers that retrying cannot fix: the channel or person is gone, the bot was removed or its
 * token revoked, or the message itself is no longer editable. The worker stops retrying on these
 * (PermanentFailure); anything else (5xx, 429 after the client's own retries, network) is thrown
 * as is so that the job is tried again later.
 */
const PERMANENT = new Set([
  'channel_not_found',
  'not_in_channel',
  'is_archived',
  'user_not_found',
  'users_not_found',
  'user_disabled',
  'account_inactive',
  'cannot_dm_bot',
  'invalid_auth',
  'not_authed',
  'token_revoked',
  'missing_scope',
  'message_not_found',
  'cant_update_message',
  'edit_window_closed',
  'invalid_blocks',
  'msg_too_long',
]);

/** The `error` of a Web API platform error (`{ ok: false, error }`), if that is what `err` is. */
export function slackErrorOf(err: unknown): string | undefined {
  if (!err || typeof err !== 'object') return undefined;
  const data = (err as { data?: { error?: unknown } }).data;
  return typeof data?.error === 'string' ? data.error : undefined;
}

export function isPermanentSlackError(err: unknown): boolean {
  if (err instanceof PermanentFailure) return true;
  const code = slackErrorOf(err);
  return code !== undefined && PERMANENT.has(code);
}

/** Runs a Web API call; a permanent Slack error becomes a PermanentFailure naming what was attempted. */
export async function slackCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof PermanentFailure) throw err;
    const code = slackErrorOf(err);
    if (code !== undefined && PERMANENT.has(code)) {
      throw new PermanentFailure(`${what}: Slack answered ${code}`, { cause: err });
    }
    throw err;
  }
}
