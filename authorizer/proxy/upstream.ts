import http, { type ClientRequest, type IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { createProxyMiddleware, type RequestHandler } from 'http-proxy-middleware';
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
 * One http-proxy-middleware instance per resource (built on first use, dropped with the policy
 * object that held the resource), sharing keep-alive agents. The request arrives already
 * authorized, with its headers and path rewritten by the gate; this only moves bytes and turns
 * upstream failures into 502/504 refusals.
 */
export function createUpstreams(options: UpstreamOptions) {
  const agents = {
    http: new http.Agent({ keepAlive: true, maxSockets: 512, maxFreeSockets: 64 }),
    https: new https.Agent({ keepAlive: true, maxSockets: 512, maxFreeSockets: 64 }),
  };
  const handlers = new WeakMap<Resource, RequestHandler>();
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

  function build(resource: Resource): RequestHandler {
    const target = new URL(resource.upstream);
    return createProxyMiddleware<IncomingMessage, ServerResponse>({
      target: resource.upstream,
      changeOrigin: true,
      agent: target.protocol === 'https:' ? agents.https : agents.http,
      proxyTimeout: options.timeoutMs,
      // X-Forwarded-* are set by the gate: http-proxy's xfwd would extend a client's spoofed chain.
      xfwd: false,
      // Upgrades are authorized first and tunnelled by openTunnel, never by the library.
      ws: false,
      // Our own error handling replaces the default plugins (their error page names the upstream).
      ejectPlugins: true,
      plugins: [
        (proxy) => {
          proxy.on('error', (err, req, out) => onError(resource, err, req, out));
          proxy.on('proxyReq', (proxyReq, req, res) => watch(resource, proxyReq, req, res));
          proxy.on('proxyRes', (proxyRes) => own(resource, proxyRes.headers));
        },
      ],
    });
  }

  function handlerFor(resource: Resource): RequestHandler {
    let handler = handlers.get(resource);
    if (!handler) {
      handler = build(resource);
      handlers.set(resource, handler);
    }
    return handler;
  }

  return {
    /** Proxies an authorized HTTP request. */
    web(resource: Resource, req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) {
      return handlerFor(resource)(req, res, next);
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
