import type { App } from '@slack/bolt';
import { isJitgateError } from '../../shared/errors.js';
import type { BotDeps } from '../deps.js';
import { errorReply } from '../views/replies.js';
import { tellActor } from './reply.js';

/**
 * The one place where a failed command or click becomes an answer: every listener lets its errors
 * go, and this tells the person privately what went wrong (a JitgateError's message is written for
 * them; anything else is a bug or an outage, and they are told nothing was changed).
 */
export function register(app: App, deps: BotDeps): void {
  app.error(async ({ error, body }: { error: Error; body: unknown }) => {
    const cause = unwrap(error);
    const expected = isJitgateError(cause) && cause.code !== 'unavailable';
    if (expected) deps.log.info({ code: cause.code, fields: cause.fields }, `refused: ${cause.message}`);
    else deps.log.error({ err: cause }, 'listener failed');
    const usage =
      isJitgateError(cause) && typeof cause.fields.usage === 'string' ? cause.fields.usage : undefined;
    try {
      await tellActor(deps, body)(errorReply(cause, usage));
    } catch (err) {
      deps.log.error({ err }, 'could not tell the person about the error');
    }
  });
}

/** Bolt wraps what listeners throw (one error, or several when more than one listener failed). */
function unwrap(error: unknown): unknown {
  const e = error as { original?: unknown; originals?: unknown[] };
  if (e?.original !== undefined) return e.original;
  if (Array.isArray(e?.originals) && e.originals.length > 0) return e.originals[0];
  return error;
}
