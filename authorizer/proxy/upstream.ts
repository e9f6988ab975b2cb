import http, {
  type ClientRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  ServerResponse,
} from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { parse as parseUrl } from 'node:url';
import type { Logger } from '../../shared/log.js';
import type { Resource } from '../../shared/policy/index.js';
import type { Metrics } from '../metrics.js';
import { sendRefusal } from '../refusal-response.js';
import { type Refusal, refusal } from '../refusals.js';
import type { PublicAddress } from './public-address.js';
import { ownResponseHeaders } from './response-headers.js';
import { openTunnel, type TunnelHooks } from './tunnel.js';

export interface UpstreamOptions {
  /**
   * How long an upstream may stay silent, and how long it may take to send a complete head once its
   * first bytes came (a head dripped line by line is never silent), before the client gets 504.
   */
  timeoutMs: number;
  metrics: Metrics;
  log: Logger;
  /** Where people reach each resource: the upstream's redirects to its own address are rewritten to it. */
  publicAddress: (resource: Resource) => PublicAddress;
}

/**
 * Forwards authorized requests to their resource's upstream over keep-alive agents: the request
 * arrives already authorized, with its headers and path rewritten by the gate; this only moves
 * bytes and turns upstream failures into 502/504 refusals. It does what http-proxy (under
 * http-proxy-middleware, which it replaced on this path) did for jitgate's options — the request's
 * headers with the upstream's Host, the upstream's own path prefix joined to the request's, the
 * answer's head copied (after `own` made its headers ours) and its body piped — without the
 * per-request option copies, event emitter and passes that were a third of the proxying's CPU.
 */
export function createUpstreams(options: UpstreamOptions) {
  const agents = {
    http: new http.Agent({ keepAlive: true, maxSockets: 512, maxFreeSockets: 64 }),
    https: new https.Agent({ keepAlive: true, maxSockets: 512, maxFreeSockets: 64 }),
  };
  const targets = new WeakMap<Resource, Target>();
  const timedOut = new WeakSet<IncomingMessage>();
  /** The upstream's answer to a client request, once its head has arrived. */
  const answers = new WeakMap<IncomingMessage, IncomingMessage>();
  /** Responses already failed: a bad answer is reported once, however many events it raises. */
  const failed = new WeakSet<ServerResponse>();

  function onError(resource: Resource, err: Error & { code?: string }, req: IncomingMessage, out: unknown) {
    const kind = timedOut.has(req) ? 'timeout' : 'unreachable';
    options.metrics.upstreamErrors.inc({ resource: resource.name, kind });
    options.log.warn({ resource: resource.name, kind, code: err.code, msg: err.message }, 'upstream failed');
    const r = refusal(kind === 'timeout' ? 'upstream_timeout' : 'upstream_unreachable', { resource });
    if (out instanceof ServerResponse) fail(out, req, r);
    else (out as Duplex | undefined)?.destroy();
  }

  /**
   * Ends a response whose upstream went wrong: a refusal of our own when nothing of the answer has
   * reached the client yet (its headers, status line and body dropped), the connection cut when
   * some of it has, nothing when the client already has the whole answer.
   */
  function fail(res: ServerResponse, req: IncomingMessage, r: Refusal): void {
    if (failed.has(res)) return;
    failed.add(res);
    const answer = answers.get(req);
    if (answer) {
      answer.unpipe(res);
      answer.destroy();
    }
    if (res.writableEnded || res.destroyed) return;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    res.statusMessage = '';
    sendRefusal(res, r, req.headers.accept);
  }

  /**
   * Watches one proxied request to its end, whatever the upstream does: a head that does not arrive
   * in time (dripped header lines, endless 1xx answers), a request closed with no answer at all (a
   * 101 to a plain request), an answer cut short, a client that leaves before the answer ends (the
   * upstream request is then aborted, not left streaming into nothing).
   */
  function watch(resource: Resource, proxyReq: ClientRequest, req: IncomingMessage, res: ServerResponse) {
    const unreachable = () => refusal('upstream_unreachable', { resource });
    proxyReq.once('timeout', () => timedOut.add(req));
    let headDue: NodeJS.Timeout | undefined;
    const armHeadDeadline = () => {
      headDue = setTimeout(() => {
        timedOut.add(req);
        proxyReq.destroy(new Error('the upstream sent no complete head in time'));
      }, options.timeoutMs);
      headDue.unref();
    };
    // Silence is the idle timeout's; once the answer's first bytes arrive, its whole head is due.
    const socket = proxyReq.socket;
    socket?.once('data', armHeadDeadline);
    const stopWatchingHead = () => {
      clearTimeout(headDue);
      socket?.off('data', armHeadDeadline);
    };
    proxyReq.once('response', (answer: IncomingMessage) => {
      stopWatchingHead();
      answers.set(req, answer);
      answer.on('error', () => {});
      answer.once('close', () => {
        if (!answer.complete) fail(res, req, unreachable());
      });
    });
    proxyReq.once('close', () => {
      stopWatchingHead();
      if (!answers.has(req)) fail(res, req, unreachable());
    });
    res.on('error', (err) => options.log.debug({ err }, 'client response error'));
    res.once('close', () => {
      if (!answers.get(req)?.complete) proxyReq.destroy();
    });
  }

  /** The answer's headers made ours (response-headers.ts), before http-proxy copies them to the client. */
  function own(resource: Resource, headers: IncomingMessage['headers']): void {
    const dropped = ownResponseHeaders(headers, resource, options.publicAddress(resource));
    if (dropped.length > 0) {
      options.log.warn(
        { resource: resource.name, cookies: dropped },
        "upstream tried to set jitgate's cookies",
      );
    }
  }

  function targetOf(resource: Resource): Target {
    let target = targets.get(resource);
    if (!target) {
      target = upstreamTarget(resource.upstream, agents);
      targets.set(resource, target);
    }
    return target;
  }

  /**
   * One request to the upstream. The client's going away (a reset while nothing was answered)
   * aborts it quietly; any other failure of either side is the upstream's (502/504).
   */
  function forward(resource: Resource, req: IncomingMessage, res: ServerResponse): void {
    const target = targetOf(resource);
    // DELETE and OPTIONS without a length get an explicit empty body (as http-proxy did).
    if ((req.method === 'DELETE' || req.method === 'OPTIONS') && !req.headers['content-length']) {
      req.headers['content-length'] = '0';
      delete req.headers['transfer-encoding'];
    }
    const headers: OutgoingHttpHeaders = { ...req.headers, host: target.hostHeader };
    const proxyReq = target.client.request({
      protocol: target.protocol,
      host: target.host,
      port: target.port,
      method: req.method,
      path: target.join(req.url ?? '/'),
      headers,
      agent: target.agent,
    });
    // Watched once it has a socket (the head deadline listens on it).
    proxyReq.once('socket', () => watch(resource, proxyReq, req, res));
    proxyReq.setTimeout(options.timeoutMs, () => proxyReq.destroy());
    req.on('aborted', () => proxyReq.destroy());
    const failed = (err: Error & { code?: string }) => {
      if (req.socket.destroyed && err.code === 'ECONNRESET') {
        proxyReq.destroy();
        return;
      }
      onError(resource, err, req, res);
    };
    req.on('error', failed);
    proxyReq.on('error', failed);
    req.pipe(proxyReq);
    proxyReq.on('response', (answer: IncomingMessage) => {
      own(resource, answer.headers);
      if (!res.headersSent) {
        try {
          copyHead(req, res, answer);
        } catch (err) {
          // A header Node will not write (it parsed it, but refuses it on the way out): the upstream's fault.
          options.log.warn({ resource: resource.name, err }, 'upstream answer head refused');
          fail(res, req, refusal('upstream_unreachable', { resource }));
          return;
        }
      }
      if (!res.writableEnded) answer.pipe(res);
    });
  }

  return {
    /** Proxies an authorized HTTP request. */
    web(resource: Resource, req: IncomingMessage, res: ServerResponse): void {
      forward(resource, req, res);
    },
    /**
     * Ends a proxied response whose access ended while it was under way: the refusal `r` when the
     * client has nothing of the answer yet (a long poll), else the connection cut (a stream, a
     * download, an upload still coming in); the upstream request is aborted either way.
     */
    end(req: IncomingMessage, res: ServerResponse, r: Refusal) {
      if (req.complete) {
        fail(res, req, r);
        return;
      }
      failed.add(res);
      answers.get(req)?.destroy();
      res.destroy();
    },
    /** Proxies an authorized upgrade: a tunnel once the upstream has really upgraded (tunnel.ts). */
    upgrade(resource: Resource, req: IncomingMessage, client: Duplex, head: Buffer, hooks: TunnelHooks) {
      openTunnel({
        resource,
        req,
        client,
        head,
        hooks,
        ownHeaders: (headers) => own(resource, headers),
        timeoutMs: options.timeoutMs,
        log: options.log,
        onFailure: (kind) => options.metrics.upstreamErrors.inc({ resource: resource.name, kind }),
      });
    },
    close() {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}

export type Upstreams = ReturnType<typeof createUpstreams>;

/** Where a resource's requests go, worked out once per resource object. */
interface Target {
  client: typeof http | typeof https;
  agent: http.Agent;
  protocol: string;
  host: string;
  port: number;
  /** The Host header the upstream gets: its own (port only when not the default). */
  hostHeader: string;
  /** The upstream path for a request target: the upstream URL's own path prefix joined to it. */
  join(target: string): string;
}

function upstreamTarget(upstream: string, agents: { http: http.Agent; https: https.Agent }): Target {
  const url = new URL(upstream);
  const secure = url.protocol === 'https:';
  const port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);
  const base = url.pathname.replace(/\/+$/, '');
  return {
    client: secure ? https : http,
    agent: secure ? agents.https : agents.http,
    protocol: url.protocol,
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port,
    hostHeader: url.host,
    join: (target) => base + escapedTarget(target),
  };
}

/** Characters a request target may hold as they are (anything else goes through url.parse). */
const PLAIN_TARGET = /^[A-Za-z0-9\-._~!$&()*+,;=:@/?%[\]]*$/;

/**
 * The target as the upstream gets it: as sent when it is plain, else escaped the way Node's legacy
 * URL parser escapes a path (`"`, `'`, `<`, `>`, a backtick, `{`, `}`, `|`, `^` become %XX), which
 * is what the upstream got through http-proxy.
 */
function escapedTarget(target: string): string {
  return PLAIN_TARGET.test(target) ? target : (parseUrl(target).path ?? target);
}

/**
 * The upstream's status and headers onto the client's response (hop-by-hop Connection as an
 * HTTP/1.1 or 1.0 client expects it; no chunked framing to an HTTP/1.0 client).
 */
function copyHead(req: IncomingMessage, res: ServerResponse, answer: IncomingMessage): void {
  const headers = answer.headers;
  if (req.httpVersion === '1.0') {
    delete headers['transfer-encoding'];
    headers.connection = req.headers.connection || 'close';
  } else if (req.httpVersion !== '2.0' && !headers.connection) {
    headers.connection = req.headers.connection || 'keep-alive';
  }
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value !== undefined) res.setHeader(name.trim(), value);
  }
  res.statusCode = answer.statusCode ?? 502;
  if (answer.statusMessage) res.statusMessage = answer.statusMessage;
}
