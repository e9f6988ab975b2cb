import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type SocketModeOptions, SocketModeStandin } from './socket-mode.js';
import {
  type AnswerState,
  answerFor,
  knowsMethod,
  type SlackBody,
  type StandinUser,
} from './standin-answers.js';
import { FailureQueue, type SlackFailure, type StandinAnswer } from './standin-failures.js';
import { InvalidJsonBody, parseCall, readRaw } from './standin-wire.js';

export { dmChannelOf, type SlackBody, type StandinUser } from './standin-answers.js';
export type { SlackFailure } from './standin-failures.js';

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
  /** When the request arrived (ms since the epoch), before any `setLatency` delay. */
  at: number;
  /** The HTTP status and the JSON the stand-in answered. */
  status: number;
  response: SlackBody;
  /** Request path: `/api/<method>` or `/respond/<id>`. */
  path: string;
  /** Set when the answer was not `ok: true` (an injected failure, `user_not_found`, `unknown_method`, …). */
  failed?: true;
}

export interface SlackStandinOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  /** What auth.test answers as `user_id`; default `U0JITGATE`. */
  botUserId?: string;
  botId?: string;
  teamId?: string;
  /** What auth.test answers as `enterprise_id` (a workspace in an Enterprise Grid org); none by default. */
  enterpriseId?: string;
  /** auth.test's `is_enterprise_install`: the app is installed across the whole org. */
  enterpriseInstall?: boolean;
  /**
   * users.info for an id not given to `setUser`: `user_not_found` like Slack (the default), or
   * `derived`: a made-up profile (`<id>@example.com`), for demos and benchmarks with many people.
   */
  unknownUsers?: 'user_not_found' | 'derived';
  /** When given, Web API calls with any other token are `invalid_auth` (no token at all is `not_authed`). */
  tokens?: readonly string[];
  latencyMs?: number;
  /**
   * Socket Mode on: `apps.connections.open` takes this app-level token and answers a `ws://` URL on
   * the stand-in's port, and `socketMode` delivers envelopes over it (see socket-mode.ts).
   */
  socketMode?: SocketModeOptions;
}

/**
 * A local stand-in for the Slack Web API: answers like Slack, records every call, fails on demand.
 * Point a real `WebClient` at `apiUrl`:
 *
 * @example
 * const slack = await startSlackStandin();
 * const client = new WebClient('xoxb-test', { slackApiUrl: slack.apiUrl });
 * await client.chat.postMessage({ channel: 'C0APPROVALS', text: 'hi' });
 * slack.callsTo('chat.postMessage')[0]?.body.text; // 'hi'
 * await slack.close();
 */
export class SlackStandin {
  readonly calls: SlackCall[] = [];
  /** Set when started with `socketMode`: deliveries to the app over its WebSocket connections. */
  readonly socketMode: SocketModeStandin | undefined;
  private readonly server: Server;
  private readonly events = new EventEmitter();
  private readonly failures = new FailureQueue();
  private readonly state: AnswerState;
  private readonly tokens: ReadonlySet<string> | undefined;
  private latencyMs: number;
  private closing: Promise<void> | undefined;
  private port = 0;
  private tsCount = 0;
  private viewCount = 0;

  /** Starts the stand-in on 127.0.0.1 (a free port unless one is given). */
  static async start(options: SlackStandinOptions = {}): Promise<SlackStandin> {
    const standin = new SlackStandin(options);
    await new Promise<void>((resolve, reject) => {
      standin.server.once('error', reject);
      standin.server.listen(options.port ?? 0, '127.0.0.1', () => {
        standin.server.off('error', reject);
        standin.port = (standin.server.address() as AddressInfo).port;
        resolve();
      });
    });
    return standin;
  }

  private constructor(options: SlackStandinOptions) {
    this.latencyMs = options.latencyMs ?? 0;
    this.tokens = options.tokens ? new Set(options.tokens) : undefined;
    this.state = {
      botUserId: options.botUserId ?? 'U0JITGATE',
      botId: options.botId ?? 'B0JITGATE',
      teamId: options.teamId ?? 'T0TEAM',
      ...(options.enterpriseId ? { enterpriseId: options.enterpriseId } : {}),
      enterpriseInstall: options.enterpriseInstall ?? false,
      unknownUsers: options.unknownUsers ?? 'user_not_found',
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
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: false, error: 'standin_error', detail: String(err) }));
      });
    });
    this.socketMode = options.socketMode
      ? new SocketModeStandin(options.socketMode, () => `ws://127.0.0.1:${this.port}`)
      : undefined;
    this.server.on('upgrade', (req, socket, head) => {
      if (!this.socketMode?.upgrade(req, socket, head)) {
        socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      }
    });
  }

  /** `http://127.0.0.1:PORT`, where the stand-in listens. */
  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** `http://127.0.0.1:PORT/api/`, what `WebClient`'s `slackApiUrl` (and `SLACK_API_URL`) expects. */
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
    this.failures.add(method, failure, times);
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

  /** Every attempt at `method`, failed ones included (`failed: true`), oldest first. */
  attemptsTo(method: string): SlackCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Calls `listener` with each call as it is recorded (the demo narrates with it); returns an unsubscribe. */
  onCall(listener: (call: SlackCall) => void): () => void {
    this.events.on('call', listener);
    return () => this.events.off('call', listener);
  }

  /**
   * The first successful call to `method` that satisfies `predicate`, already recorded or still to
   * come. Rejects after `timeoutMs` (or when the stand-in closes) with what was recorded instead.
   */
  waitFor(
    method: string,
    predicate: (call: SlackCall) => boolean = () => true,
    timeoutMs = 5000,
  ): Promise<SlackCall> {
    const matches = (c: SlackCall) => c.method === method && !c.failed && predicate(c);
    return new Promise((resolve, reject) => {
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        this.events.off('call', onCall);
        this.events.off('close', onClose);
        settle();
      };
      const check = (call: SlackCall): boolean => {
        try {
          if (!matches(call)) return false;
          finish(() => resolve(call));
        } catch (err) {
          finish(() => reject(err));
        }
        return true;
      };
      const onCall = (call: SlackCall) => void check(call);
      const onClose = () =>
        finish(() => reject(new Error(`the stand-in closed while waiting for ${method}; ${this.summary()}`)));
      const timer = setTimeout(
        () =>
          finish(() =>
            reject(new Error(`no successful ${method} matching within ${timeoutMs} ms; ${this.summary()}`)),
          ),
        timeoutMs,
      );
      this.events.on('call', onCall);
      this.events.on('close', onClose);
      for (const call of this.calls) if (check(call)) return;
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

  /** Stops listening and drops open connections; pending `waitFor`s reject. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve, reject) => {
      this.events.emit('close');
      void this.socketMode?.close();
      this.server.close((err) => (err ? reject(err) : resolve()));
      // WebClient keeps connections alive; without this close() would wait for them to time out.
      this.server.closeAllConnections();
    });
    return this.closing;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = Date.now();
    const url = new URL(req.url ?? '/', 'http://standin.invalid');
    const raw = await readRaw(req);
    const method = url.pathname.startsWith('/api/')
      ? decodeURIComponent(url.pathname.slice('/api/'.length))
      : url.pathname.startsWith('/respond/')
        ? 'response_url'
        : undefined;
    if (method === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"ok":false,"error":"not_found"}');
      return;
    }
    let parsed: ReturnType<typeof parseCall> | undefined;
    try {
      parsed = parseCall(raw, req, url.searchParams);
    } catch (err) {
      if (!(err instanceof InvalidJsonBody)) throw err;
    }
    const body = parsed?.body ?? { raw };
    const { status, headers, response } = parsed
      ? this.answer(method, body, parsed.token)
      : { status: 200, headers: {}, response: { ok: false, error: 'invalid_json' } };
    const call: SlackCall = {
      method,
      body,
      args: body,
      token: parsed?.token,
      at,
      status,
      response,
      path: url.pathname,
      ...(status !== 200 || response.ok !== true ? { failed: true as const } : {}),
    };
    this.calls.push(call);
    this.events.emit('call', call);
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
    res
      .writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers })
      .end(JSON.stringify(response));
  }

  /** An injected failure first, then Slack's own checks (method, token), then the method's answer. */
  private answer(method: string, body: SlackBody, token: string | undefined): StandinAnswer {
    const injected = this.failures.take(method);
    if (injected) return injected;
    const refused = (error: string): StandinAnswer => ({
      status: 200,
      headers: {},
      response: { ok: false, error },
    });
    if (method === 'response_url') return { status: 200, headers: {}, response: { ok: true } };
    // App-level tokens open Socket Mode connections and nothing else; bot tokens cannot open them.
    if (method === 'apps.connections.open') {
      if (this.socketMode) return { status: 200, headers: {}, response: this.socketMode.open(token) };
      return refused(token === undefined ? 'not_authed' : 'invalid_auth');
    }
    if (token?.startsWith('xapp-')) return refused('not_allowed_token_type');
    if (knowsMethod(method)) {
      if (token === undefined) return refused('not_authed');
      if (this.tokens && !this.tokens.has(token)) return refused('invalid_auth');
    }
    return { status: 200, headers: {}, response: answerFor(method, body, this.state) };
  }

  private summary(): string {
    if (this.calls.length === 0) return 'recorded: nothing';
    const each = (c: SlackCall) =>
      c.failed ? `${c.method} (failed: ${c.status} ${String(c.response.error ?? '')})` : c.method;
    return `recorded: ${this.calls.map(each).join(', ')}`;
  }
}

/** Starts the Slack Web API stand-in on 127.0.0.1 (a free port unless one is given). */
export function startSlackStandin(options: SlackStandinOptions = {}): Promise<SlackStandin> {
  return SlackStandin.start(options);
}
