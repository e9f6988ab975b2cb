import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AnswerState, answerFor, type SlackBody, type StandinUser } from './slack-standin-answers.js';

export type { SlackBody, StandinUser } from './slack-standin-answers.js';

/** One request the stand-in received: a Web API call, or a POST to a `responseUrl()`. */
export interface SlackCall {
  /** `chat.postMessage`, …, or `response_url` for what Bolt's `respond()` sent. */
  method: string;
  /** The arguments, with `blocks`, `attachments`, `view` and `metadata` parsed back into objects. */
  body: SlackBody;
  /** The same object as `body`. */
  args: SlackBody;
  /** From `Authorization: Bearer`, else the form's `token` field (which is then left out of `body`). */
  token: string | undefined;
  at: number;
  /** The HTTP status and the JSON the stand-in answered. */
  status: number;
  response: SlackBody;
  /** Request path: `/api/<method>` or `/respond/<id>`. */
  path: string;
  /** Set when the answer was not `ok: true` (an injected failure, `user_not_found`, `unknown_method`, …). */
  failed?: boolean;
}

/**
 * A failure for `failNext`: `{ status: 429, retryAfterSec }` (rate limited, with `Retry-After`, default 1;
 * `null` leaves the header out), `{ status: 500 }` or any other non-200 status, or `{ error }` (HTTP 200
 * with `ok: false`).
 */
export type SlackFailure = { status: number; retryAfterSec?: number | null } | { error: string };

export interface SlackStandinOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** What auth.test answers as `user_id`; default `U0JITGATE`. */
  botUserId?: string;
  botId?: string;
  teamId?: string;
  /** users.info for a user not given to `setUser` answers `user_not_found` instead of a default profile. */
  strictUsers?: boolean;
  latencyMs?: number;
}

/** Form fields that Slack's Web API takes as JSON text; recorded as the objects they encode. */
const JSON_FIELDS = new Set(['blocks', 'attachments', 'view', 'metadata', 'user_auth_blocks']);
/** Form flags that arrive as `'true'`/`'false'`; recorded as booleans. */
const FLAG_FIELDS = new Set([
  'unfurl_links',
  'unfurl_media',
  'mrkdwn',
  'reply_broadcast',
  'as_user',
  'link_names',
]);

/**
 * A local stand-in for the Slack Web API: answers like Slack, records every call, fails on demand.
 * Point a real `WebClient` at `apiUrl` (`new WebClient(token, { slackApiUrl: standin.apiUrl })`).
 */
export class SlackStandin {
  readonly calls: SlackCall[] = [];
  private readonly events = new EventEmitter();
  private readonly failures = new Map<string, { failure: SlackFailure; left: number }[]>();
  private readonly state: AnswerState;
  private latencyMs: number;
  private tsCount = 0;
  private viewCount = 0;

  constructor(
    private readonly server: Server,
    readonly baseUrl: string,
    options: SlackStandinOptions,
  ) {
    this.latencyMs = options.latencyMs ?? 0;
    this.state = {
      botUserId: options.botUserId ?? 'U0JITGATE',
      botId: options.botId ?? 'B0JITGATE',
      teamId: options.teamId ?? 'T0TEAM',
      strictUsers: options.strictUsers ?? false,
      users: new Map(),
      usergroups: new Map(),
      nextTs: () => {
        this.tsCount += 1;
        const micros = this.tsCount * 100;
        return `${1_700_000_000 + Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, '0')}`;
      },
      nextViewId: () => {
        this.viewCount += 1;
        return `V0${this.viewCount.toString(36).toUpperCase().padStart(8, '0')}`;
      },
    };
    this.events.setMaxListeners(0);
  }

  /** `http://127.0.0.1:PORT/api/`, what `WebClient`'s `slackApiUrl` expects. */
  get apiUrl(): string {
    return `${this.baseUrl}/api/`;
  }

  /** A response URL on the stand-in: what is POSTed there is recorded as method `response_url`. */
  responseUrl(id: string): string {
    return `${this.baseUrl}/respond/${encodeURIComponent(id)}`;
  }

  setUser(id: string, user: StandinUser): void {
    this.state.users.set(id, user);
  }

  setUsergroup(id: string, users: readonly string[]): void {
    this.state.usergroups.set(id, [...users]);
  }

  /** The next `times` calls to `method` (a Web API method or `response_url`) fail this way. */
  failNext(method: string, failure: SlackFailure, times = 1): void {
    const queue = this.failures.get(method) ?? [];
    queue.push({ failure, left: times });
    this.failures.set(method, queue);
  }

  /** Drops the failures `failNext` queued that have not happened yet. */
  clearFailures(): void {
    this.failures.clear();
  }

  /** Every answer waits this long first (0 to stop). */
  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  /** The calls to `method` that were answered `ok: true`, oldest first. */
  callsTo(method: string): SlackCall[] {
    return this.calls.filter((c) => c.method === method && !c.failed);
  }

  /** The first successful call to `method` that satisfies `predicate`, already recorded or still to come. */
  waitFor(
    method: string,
    predicate: (call: SlackCall) => boolean = () => true,
    timeoutMs = 5000,
  ): Promise<SlackCall> {
    const matches = (c: SlackCall) => c.method === method && !c.failed && predicate(c);
    try {
      const found = this.calls.find(matches);
      if (found) return Promise.resolve(found);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      const onCall = (call: SlackCall) => {
        try {
          if (!matches(call)) return;
          done();
          resolve(call);
        } catch (err) {
          done();
          reject(err);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(`no successful ${method} matching within ${timeoutMs} ms; recorded: ${this.summary()}`),
        );
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.events.off('call', onCall);
      };
      this.events.on('call', onCall);
    });
  }

  /** Forgets the recorded calls (users, user groups and queued failures stay: see `clearFailures`). */
  clear(): void {
    this.calls.length = 0;
  }

  /** Every recorded body as JSON, for asserting that something (a bearer token) never reached Slack. */
  allText(): string {
    return this.calls.map((c) => JSON.stringify(c.body)).join('\n');
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.close((err) => (err ? reject(err) : resolve()));
      // WebClient keeps connections alive; without this close() would wait for them to time out.
      this.server.closeAllConnections();
    });
  }

  /** @internal the request handler. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.baseUrl);
    const raw = await readRaw(req);
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
    const method = url.pathname.startsWith('/api/')
      ? decodeURIComponent(url.pathname.slice('/api/'.length))
      : url.pathname.startsWith('/respond/')
        ? 'response_url'
        : undefined;
    if (method === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"ok":false,"error":"not_found"}');
      return;
    }
    const { body, formToken } = parseBody(raw, String(req.headers['content-type'] ?? ''), url.searchParams);
    const failure = this.takeFailure(method);
    let status = 200;
    let response: SlackBody;
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
    if (failure && 'error' in failure) {
      response = { ok: false, error: failure.error };
    } else if (failure) {
      status = failure.status;
      response = { ok: false, error: status === 429 ? 'ratelimited' : 'internal_error' };
      const retryAfter = failure.retryAfterSec === undefined ? 1 : failure.retryAfterSec;
      if (status === 429 && retryAfter !== null) headers['retry-after'] = String(retryAfter);
    } else {
      response = method === 'response_url' ? { ok: true } : answerFor(method, body, this.state);
    }
    const failed = status !== 200 || response.ok !== true;
    const call: SlackCall = {
      method,
      body,
      args: body,
      token: bearer(req.headers.authorization) ?? formToken,
      at: Date.now(),
      status,
      response,
      path: url.pathname,
      ...(failed ? { failed } : {}),
    };
    this.calls.push(call);
    this.events.emit('call', call);
    res.writeHead(status, headers).end(JSON.stringify(response));
  }

  private takeFailure(method: string): SlackFailure | undefined {
    const queue = this.failures.get(method);
    const head = queue?.[0];
    if (!queue || !head) return undefined;
    head.left -= 1;
    if (head.left <= 0) queue.shift();
    return head.failure;
  }

  private summary(): string {
    if (this.calls.length === 0) return 'nothing';
    return this.calls
      .map((c) =>
        c.failed ? `${c.method} (failed: ${c.status} ${String(c.response.error ?? '')})` : c.method,
      )
      .join(', ');
  }
}

/** Starts the stand-in on 127.0.0.1 (a free port unless one is given). */
export async function startSlackStandin(options: SlackStandinOptions = {}): Promise<SlackStandin> {
  let standin: SlackStandin | undefined;
  const server = createServer((req, res) => {
    standin?.handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: false, error: 'standin_error', detail: String(err) }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  standin = new SlackStandin(server, `http://127.0.0.1:${port}`, options);
  return standin;
}

function readRaw(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function bearer(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(.+)$/i.exec(header ?? '');
  return m?.[1];
}

/** Form-encoded (what WebClient sends) or JSON (what `respond()` sends), plus any query arguments. */
function parseBody(
  raw: string,
  contentType: string,
  query: URLSearchParams,
): { body: SlackBody; formToken?: string } {
  const body: SlackBody = {};
  for (const [k, v] of query) body[k] = v;
  if (contentType.includes('application/json')) {
    const parsed: unknown = raw === '' ? {} : JSON.parse(raw);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) Object.assign(body, parsed);
    else body.payload = parsed;
  } else {
    for (const [k, v] of new URLSearchParams(raw)) body[k] = formValue(k, v);
  }
  const formToken = typeof body.token === 'string' ? body.token : undefined;
  if (formToken !== undefined) delete body.token;
  return formToken !== undefined ? { body, formToken } : { body };
}

function formValue(key: string, value: string): unknown {
  if (FLAG_FIELDS.has(key) && (value === 'true' || value === 'false')) return value === 'true';
  if (!JSON_FIELDS.has(key)) return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}
