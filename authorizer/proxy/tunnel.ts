import { createHash } from 'node:crypto';
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../../shared/log.js';
import type { Resource } from '../../shared/policy/index.js';
import { type Refusal, refusal } from '../refusals.js';

/** RFC 6455 §1.3: the GUID appended to the client's key. */
const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** The `Sec-WebSocket-Accept` an upstream that really speaks WebSocket answers to `key`. */
export function acceptFor(key: string): string {
  return createHash('sha1')
    .update(key + WEBSOCKET_GUID)
    .digest('base64');
}

export interface TunnelHooks {
  /** The upstream end, once the upstream has really upgraded (to close with the client's). */
  linked(upstream: Duplex): void;
  /**
   * Asked after the upstream's 101 and before the client sees one: is access still live? A grant
   * revoked while the upgrade was under way is caught here (or, if later, by the revocation that
   * follows). Undefined: yes; otherwise the refusal the client gets instead of the 101.
   */
  confirm(): Promise<Refusal | undefined>;
  /** Writes a refusal on the client socket and closes it. */
  refuse(r: Refusal): void;
}

/**
 * Opens the upstream side of an authorized WebSocket upgrade and joins the two. The request arrives
 * rewritten by the gate (headers, path). Only a real upgrade becomes a tunnel: a 101 whose
 * `Sec-WebSocket-Accept` answers the client's `Sec-WebSocket-Key`, with `Upgrade: websocket`. Anything
 * else (no 101, a 101 without the accept, with a wrong one or one for another key) is refused with
 * 502, so nobody can speak raw HTTP through a "tunnel" past the authorizer's checks.
 */
export function openTunnel(options: {
  resource: Resource;
  req: IncomingMessage;
  client: Duplex;
  head: Buffer;
  /** How long the upstream may take to answer the upgrade (its whole head). */
  timeoutMs: number;
  hooks: TunnelHooks;
  /** Makes the 101's headers ours (no jitgate cookie set by the upstream, its address rewritten). */
  ownHeaders(headers: IncomingHttpHeaders): void;
  log: Logger;
  onFailure(kind: 'timeout' | 'unreachable'): void;
}): void {
  const { resource, req, client, head, hooks, log } = options;
  const target = new URL(resource.upstream);
  const key = req.headers['sec-websocket-key'];
  const bad = (why: string) => {
    log.warn({ resource: resource.name, why }, 'upstream did not upgrade');
    options.onFailure('unreachable');
    return refusal(
      'upstream_unreachable',
      { resource },
      'The service behind jitgate did not accept the WebSocket connection.',
    );
  };

  const base = target.pathname.replace(/\/$/, '');
  const secure = target.protocol === 'https:';
  const proxyReq = (secure ? https : http).request({
    protocol: target.protocol,
    hostname: target.hostname.replace(/^\[|\]$/g, ''),
    port: target.port || (secure ? 443 : 80),
    method: req.method,
    path: `${base}${req.url ?? '/'}`,
    headers: { ...req.headers, host: target.host },
    agent: false,
    // Silence (no answer at all) is the idle timeout's.
    timeout: options.timeoutMs,
  });
  let done = false;
  let headDue: NodeJS.Timeout | undefined;
  const settle = (r?: Refusal) => {
    clearTimeout(headDue);
    if (done) return;
    done = true;
    if (r) hooks.refuse(r);
  };
  const tooSlow = () => {
    options.onFailure('timeout');
    settle(refusal('upstream_timeout', { resource }));
    proxyReq.destroy();
  };
  proxyReq.on('timeout', tooSlow);
  // Once the answer's first bytes came, its whole head is due (a 101 dripped line by line).
  proxyReq.once('socket', (socket: Socket) => {
    socket.once('data', () => {
      if (done) return;
      headDue = setTimeout(tooSlow, options.timeoutMs);
      headDue.unref();
    });
  });
  proxyReq.on('error', (err: Error & { code?: string }) => {
    log.warn({ resource: resource.name, code: err.code, msg: err.message }, 'upstream upgrade failed');
    if (!done) options.onFailure('unreachable');
    settle(refusal('upstream_unreachable', { resource }));
  });
  proxyReq.on('response', (answer: IncomingMessage) => {
    answer.resume();
    settle(bad(`answered ${answer.statusCode} instead of 101`));
    proxyReq.destroy();
  });
  // The client leaves during the handshake: so does the upstream request.
  const leave = () => proxyReq.destroy();
  client.once('close', leave);

  proxyReq.on('upgrade', (answer: IncomingMessage, upstream: Socket, upstreamHead: Buffer) => {
    clearTimeout(headDue);
    upstream.on('error', (err) => log.debug({ err }, 'upstream WebSocket error'));
    const accept = answer.headers['sec-websocket-accept'];
    const problem =
      typeof key !== 'string'
        ? 'the client sent no Sec-WebSocket-Key'
        : answer.headers.upgrade?.toLowerCase() !== 'websocket'
          ? 'its 101 does not upgrade to websocket'
          : accept !== acceptFor(key)
            ? 'its 101 has no valid Sec-WebSocket-Accept for the client key'
            : undefined;
    if (problem) {
      upstream.destroy();
      settle(bad(problem));
      return;
    }
    hooks.confirm().then(
      (refused) => join(refused),
      (err) => {
        log.error({ err }, 'could not re-check the grant after the upgrade');
        join(refusal('unavailable', { resource }));
      },
    );

    function join(refused: Refusal | undefined): void {
      client.off('close', leave);
      if (refused || client.destroyed || done) {
        upstream.destroy();
        settle(refused);
        return;
      }
      done = true;
      hooks.linked(upstream);
      for (const s of [client, upstream]) {
        (s as Socket).setNoDelay?.(true);
        (s as Socket).setTimeout?.(0);
      }
      upstream.once('close', () => client.destroy());
      client.once('close', () => upstream.destroy());
      options.ownHeaders(answer.headers);
      client.write(switchingProtocols(answer.headers));
      if (upstreamHead.length > 0) client.write(upstreamHead);
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    }
  });
  proxyReq.end();
}

/** The upstream's 101 for the client, with its headers as made ours (repeated ones kept). */
function switchingProtocols(headers: IncomingHttpHeaders): string {
  const lines = ['HTTP/1.1 101 Switching Protocols'];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${one}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}
