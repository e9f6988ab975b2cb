import type { App } from '@slack/bolt';
import type { BotDeps } from '../deps.js';
import { isOurs, originOf, type Workspace } from '../slack/workspace.js';

/** What a person of another workspace is told (a command's ack, a click's response_url). */
export const FOREIGN_WORKSPACE_TEXT =
  'jitgate serves one Slack workspace, and this came from another: nothing was done. Ask in the workspace where jitgate is installed.';
/** While the bot cannot yet tell which workspace is its own (auth.test has not answered). */
export const WORKSPACE_UNKNOWN_TEXT =
  'jitgate cannot confirm its Slack workspace right now, so it did nothing; try again in a minute.';

/**
 * Refuses every delivery (command, click, form submission, event) that does not come from the bot's
 * own workspace (`auth.test`; see bot/slack/workspace.ts), before any listener runs: acknowledged,
 * answered where someone waits, logged, and nothing changed. The same app installed in another
 * workspace shares the signing secret, so a valid signature alone does not say "ours".
 */
export function installWorkspaceGuard(
  app: App,
  deps: Pick<BotDeps, 'log'>,
  workspace: { get(): Promise<Workspace> },
): void {
  app.use(async ({ body, ack, next }) => {
    let ours: Workspace | undefined;
    try {
      ours = await workspace.get();
    } catch (err) {
      deps.log.error(
        { err: String(err) },
        'refused a Slack delivery: the bot’s own workspace is unknown (auth.test failed)',
      );
    }
    const origin = originOf(body);
    if (ours && isOurs(ours, origin)) {
      await next();
      return;
    }
    const text = ours ? FOREIGN_WORKSPACE_TEXT : WORKSPACE_UNKNOWN_TEXT;
    const b = (body ?? {}) as Record<string, unknown>;
    if (ours) {
      deps.log.warn(
        {
          teams: origin.teams,
          enterprises: origin.enterprises,
          user: userOf(b),
          kind: typeof b.command === 'string' ? 'command' : b.type,
        },
        'refused a Slack delivery from another workspace',
      );
    }
    // A command is answered in its ack, always: someone typed it and waits. Anything else is acked
    // only when it names a workspace that is not ours (a foreign click is then told through its
    // response_url). One that names none is left unacknowledged, so Bolt answers 404 as for any
    // delivery nothing handles; while our workspace is unknown, Slack retries it later.
    const isCommand = typeof b.command === 'string';
    const namesOne = origin.teams.length + origin.enterprises.length > 0;
    if (typeof ack === 'function' && (isCommand || (ours && namesOne))) {
      await (ack as (reply?: unknown) => Promise<void>)(
        isCommand ? { response_type: 'ephemeral', text } : undefined,
      );
    }
    if (ours && namesOne && b.type === 'block_actions' && typeof b.response_url === 'string') {
      await answer(b.response_url, text).catch((err: unknown) =>
        deps.log.info({ err: String(err) }, 'could not answer a refused click'),
      );
    }
  });
}

function userOf(b: Record<string, unknown>): string | undefined {
  if (typeof b.user_id === 'string') return b.user_id;
  const user = b.user as { id?: unknown } | string | undefined;
  if (typeof user === 'string') return user;
  return typeof user?.id === 'string' ? user.id : undefined;
}

async function answer(url: string, text: string): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text }),
    signal: AbortSignal.timeout(5_000),
  });
  if (!res.ok) throw new Error(`response_url answered ${res.status}`);
}
