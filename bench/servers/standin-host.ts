/**
 * The Slack Web API stand-in in a process of its own: Slack is remote in real life, so its work must
 * not share the bot's event loop. The orchestrator asks it, over IPC, what arrived and when.
 *
 * Environment: BENCH_BOT_TOKEN (the only token it accepts).
 */
import { dmChannelOf, type SlackCall, startSlackStandin } from '../../dev/slack/standin.js';
import { serveRpc } from './rpc.js';

const standin = await startSlackStandin({
  unknownUsers: 'derived',
  tokens: [process.env.BENCH_BOT_TOKEN ?? ''],
});
const brief = (c: SlackCall) => ({ at: c.at, text: JSON.stringify(c.body) });
const timeout = (a: Record<string, unknown>) => (typeof a.timeoutMs === 'number' ? a.timeoutMs : 15_000);
const has = (c: SlackCall, text: unknown) => JSON.stringify(c.body).includes(String(text));

serveRpc(
  { apiUrl: standin.apiUrl, baseUrl: standin.baseUrl },
  {
    /** What the bot sent to a command's response_url (`/respond/<id>`). */
    waitResponse: async (a) =>
      brief(
        await standin.waitFor(
          'response_url',
          (c) => c.path === `/respond/${encodeURIComponent(String(a.id))}`,
          timeout(a),
        ),
      ),
    /** A DM to `user` whose body contains `contains`. */
    waitDm: async (a) =>
      brief(
        await standin.waitFor(
          'chat.postMessage',
          (c) => c.body.channel === dmChannelOf(String(a.user)) && has(c, a.contains),
          timeout(a),
        ),
      ),
    /** A message posted in `channel` containing `contains` (an approval message names its request). */
    waitPosted: async (a) =>
      brief(
        await standin.waitFor(
          'chat.postMessage',
          (c) => c.body.channel === a.channel && has(c, a.contains),
          timeout(a),
        ),
      ),
    /** A chat.update of the message (`channel`, `ts`) containing `contains`. */
    waitUpdate: async (a) =>
      brief(
        await standin.waitFor(
          'chat.update',
          (c) => c.body.channel === a.channel && c.body.ts === a.ts && has(c, a.contains),
          timeout(a),
        ),
      ),
    /** Calls received so far, by method. */
    counts: () => {
      const n: Record<string, number> = {};
      for (const c of standin.calls) n[c.method] = (n[c.method] ?? 0) + 1;
      return n;
    },
    stop: async () => {
      await standin.close();
      process.exit(0);
    },
  },
);
