import { connect } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  type Answer,
  bearer,
  type Echoed,
  type Harness,
  PUBLIC_URL,
  send,
  startHarness,
} from '../e2e/authorizer-harness.js';
import { countFigures } from './figures.js';

/**
 * The authorizer owns its cookies and its address. A hostile (or merely careless) upstream tries to
 * set, replace or delete jitgate's cookies (another resource's access, the session), and to send
 * browsers to its internal address; a client tries to tell the upstream another host, scheme,
 * prefix or address than the authorizer's. The harness's upstreams answer any header a test names
 * (`set.<header>=<value>` in the query), so every answer here is exactly what a hostile upstream
 * would send.
 */
countFigures('attack');

let h: Harness;
let trusted: Harness;
let app: string;
let other: string;
let hosted: string;
let live: string;

beforeAll(async () => {
  [h, trusted] = await Promise.all([startHarness(), startHarness({ trustedProxies: ['127.0.0.1/32'] })]);
  app = (await h.grant('app', 'viewer')).token;
  other = (await h.grant('other')).token;
  hosted = (await h.grant('hosted')).token;
  live = (await h.grant('live')).token;
});
afterAll(async () => Promise.all([h?.close(), trusted?.close()]));

afterEach(async () => {
  expect((await send(h.url, '/_jitgate/healthz')).status).toBe(200);
  expect((await send(h.url, '/app/ok', { headers: bearer(app) })).status).toBe(200);
});

const HOSTED = 'hosted.test.local';
const publicHost = new URL(PUBLIC_URL).host;
const internal = () => h.echo.url;
const query = (pairs: [string, string][]) =>
  pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
const cookiesOf = (a: Answer) => {
  const c = a.headers['set-cookie'];
  return c === undefined ? [] : c;
};

/** `resource`'s upstream answers with these headers (and `status`), through the authorizer. */
function answeredWith(
  path: string,
  token: string,
  headers: [string, string][],
  extra: Record<string, string> = {},
): Promise<Answer> {
  return send(h.url, `${path}?${query(headers.map(([k, v]) => [`set.${k}`, v]))}`, {
    headers: { ...bearer(token), ...extra },
  });
}

describe('attack: an upstream sets jitgate cookies', () => {
  const planted = [
    'jitgate_app=planted; Path=/app',
    'JITGATE_APP=planted; Path=/app',
    'Jitgate_App=planted',
    'jitgate_app=planted; Domain=127.0.0.1; Path=/',
    `jitgate_hosted=planted; Domain=${HOSTED}; Path=/`,
    'jitgate_app=; Max-Age=0; Path=/app',
    'jitgate_app=gone; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/app',
    'jitgate_session=planted; Path=/; HttpOnly',
    '__Host-jitgate_session=planted; Path=/; Secure',
    '__secure-JITGATE_login_x=planted; Path=/_jitgate/oauth2/callback; Secure',
    '=jitgate_app=planted; Path=/app',
    ' \tjitgate_app =planted',
    'jitgate_app',
  ];

  it("when the other resource's upstream plants, replaces or deletes app's cookie or the session, in any spelling, then none of it reaches the browser and its own cookies do", async () => {
    const a = await answeredWith('/other/x', other, [
      ...planted.map((c) => ['set-cookie', c] as [string, string]),
      ['set-cookie', 'other_session=kept; Path=/other; HttpOnly'],
    ]);
    expect(a.status).toBe(200);
    expect(cookiesOf(a)).toEqual(['other_session=kept; Path=/other; HttpOnly']);
  });

  it('when each planted cookie comes alone, then the answer carries no Set-Cookie at all', async () => {
    for (const cookie of planted) {
      const a = await answeredWith('/other/x', other, [['set-cookie', cookie]]);
      expect(cookiesOf(a), cookie).toEqual([]);
    }
  });

  it('when a host resource upstream sets its own access cookie or the session on a redirect, then both are removed and the redirect still goes out', async () => {
    const a = await answeredWith(
      '/',
      hosted,
      [
        ['set-cookie', 'jitgate_hosted=planted; Path=/'],
        ['set-cookie', 'jitgate_session=planted; Path=/'],
        ['location', '/next'],
      ],
      { host: HOSTED },
    );
    const redirected = await send(h.url, `/?status=302&${query([['set.location', '/next']])}`, {
      headers: { ...bearer(hosted), host: HOSTED },
    });
    expect(cookiesOf(a)).toEqual([]);
    expect(redirected.status).toBe(302);
    expect(redirected.headers.location).toBe('/next');
  });

  it("when a WebSocket upstream's 101 sets jitgate cookies, then the 101 that reaches the client sets none of them", async () => {
    const url = `${h.url.replace('http://', 'ws://')}/live/?${query([
      ['set.set-cookie', 'jitgate_app=planted; Path=/app'],
      ['set.set-cookie', 'JITGATE_SESSION=x'],
      ['set.set-cookie', 'live_pref=kept'],
    ])}`;
    const upgradeCookies = await new Promise<string[]>((resolve, reject) => {
      const ws = new WebSocket(url, { headers: bearer(live) });
      ws.once('upgrade', (res) => resolve(res.headers['set-cookie'] ?? []));
      ws.once('open', () => ws.close());
      ws.once('unexpected-response', (_q, res) => reject(new Error(`refused ${res.statusCode}`)));
    });
    expect(upgradeCookies).toEqual(['live_pref=kept']);
  });
});

describe('attack: an upstream sends browsers to its internal address', () => {
  const location = (a: Answer) => a.headers.location;

  it('when a pathPrefix upstream redirects to its own address (301, 302, 303, 307, 308), then the browser goes to the public URL under the prefix, query kept', async () => {
    for (const status of ['301', '302', '303', '307', '308']) {
      const a = await send(
        h.url,
        `/app/x?status=${status}&${query([['set.location', `${internal()}/login?next=%2Fd&x=1#f`]])}`,
        { headers: bearer(app) },
      );
      expect(a.status).toBe(Number(status));
      expect(location(a)).toBe(`${PUBLIC_URL}/app/login?next=%2Fd&x=1#f`);
    }
  });

  it('when a host upstream redirects to its own address, then to the resource host on the public scheme and port', async () => {
    const a = await send(h.url, `/?status=302&${query([['set.location', `${internal()}/dashboards`]])}`, {
      headers: { ...bearer(hosted), host: HOSTED },
    });
    expect(location(a)).toBe(`http://${HOSTED}:${new URL(PUBLIC_URL).port}/dashboards`);
  });

  it('when the internal address is spelled scheme-relative, in upper case or with a backslash, then it is rewritten all the same', async () => {
    const port = new URL(internal()).port;
    for (const spelled of [
      `//127.0.0.1:${port}/a`,
      `HTTP://127.0.0.1:${port}/a`,
      `/\\127.0.0.1:${port}/a`,
      `http://u:p@127.0.0.1:${port}/a`,
    ]) {
      const a = await answeredWith('/app/x', app, [['location', spelled]]);
      expect(location(a), spelled).toBe(`${PUBLIC_URL}/app/a`);
    }
  });

  it('when the URL is another scheme, port or host, or relative, then it is left exactly as the upstream wrote it', async () => {
    const port = Number(new URL(internal()).port);
    for (const elsewhere of [
      `https://127.0.0.1:${port}/a`,
      `http://127.0.0.1:${port + 1}/a`,
      `http://localhost:${port}/a`,
      `http://127.0.0.1:${port}@evil.example/a`,
      'https://sso.example.com/authorize?redirect_uri=http%3A%2F%2F127.0.0.1',
      '/login',
      'next',
    ]) {
      const a = await answeredWith('/app/x', app, [['location', elsewhere]]);
      expect(location(a), elsewhere).toBe(elsewhere);
    }
  });

  it('when Content-Location and Refresh name the internal address, then they are rewritten too', async () => {
    const a = await answeredWith('/app/x', app, [
      ['content-location', `${internal()}/doc/1`],
      ['refresh', `0; url=${internal()}/next`],
    ]);
    expect(a.headers['content-location']).toBe(`${PUBLIC_URL}/app/doc/1`);
    expect(a.headers.refresh).toBe(`0; url=${PUBLIC_URL}/app/next`);
  });
});

/** Raw bytes to the authorizer (duplicates and odd spellings that a client library would tidy). */
function raw(base: string, bytes: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(Number(new URL(base).port), '127.0.0.1', () => socket.write(bytes));
    let data = '';
    socket.on('data', (c) => {
      data += c.toString('latin1');
      if (data.includes('\r\n\r\n') && /"body":/.test(data)) socket.end();
    });
    socket.on('close', () => resolve(data));
    socket.on('error', () => resolve(data));
    socket.setTimeout(1_000, () => socket.destroy());
  });
}

const SPOOFED = [
  'Host: evil.example',
  'X-Forwarded-Host: evil.example',
  'x-forwarded-host: evil2.example',
  'X_Forwarded_Host: evil3.example',
  'X-FORWARDED-PROTO: https',
  'X-Forwarded-Proto: gopher',
  'X-Forwarded-Prefix: /admin',
  'x_forwarded_prefix: /admin',
  'X-Forwarded-For: 10.0.0.1',
  'X-Forwarded-For: 10.0.0.2, 10.0.0.3',
  'x_forwarded_for: 10.0.0.4',
  'X-Forwarded-Port: 443',
  'X-Forwarded-Server: evil.example',
  'X-Forwarded-Scheme: https',
  'X-Forwarded-Ssl: on',
  'Front-End-Https: on',
  'X-Original-Host: evil.example',
  'X-Host: evil.example',
  'Forwarded: for=10.0.0.1;host=evil.example;proto=https',
  'forwarded: for="[2001:db8::1]"',
  'X-Real-IP: 10.0.0.1',
  'True-Client-IP: 10.0.0.1',
  'X-Client-IP: 10.0.0.1',
  'X-Cluster-Client-IP: 10.0.0.1',
];

/** The one request's forwarding headers as the upstream got them (names as sent, values as read). */
function forwardingSeen(harness: Harness) {
  const seen = harness.echo.requests.at(-1)!;
  const names = seen.rawHeaderNames
    .map((n) => n.toLowerCase())
    .filter((n) => /forward|real-ip|client-ip|original-host|^x-host|front-end/.test(n.replaceAll('_', '-')));
  return { names: names.sort(), headers: seen.headers };
}

describe('attack: a client tells the upstream another host, scheme, prefix or address', () => {
  it('when an untrusted client sends every forwarding header, duplicated, lower-cased and with underscores, then the upstream gets exactly one of each of ours, with our values', async () => {
    const reply = await raw(
      h.url,
      `GET /app/f HTTP/1.1\r\n${SPOOFED.join('\r\n')}\r\nAuthorization: Bearer ${app}\r\nConnection: close\r\n\r\n`,
    );
    expect(reply).toMatch(/^HTTP\/1\.1 200/);
    const { names, headers } = forwardingSeen(h);
    expect(names).toEqual(['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-prefix', 'x-forwarded-proto']);
    expect(headers).toMatchObject({
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-host': publicHost,
      'x-forwarded-proto': 'http',
      'x-forwarded-prefix': '/app',
    });
  });

  it('when a host resource is asked for, then X-Forwarded-Host is its host on the public port and no prefix is sent, whatever the client said', async () => {
    await send(h.url, '/h', {
      headers: {
        ...bearer(hosted),
        host: `${HOSTED.toUpperCase()}:8080`,
        'X-Forwarded-Host': ['evil.example', 'evil2.example'],
        'X-Forwarded-Prefix': '/admin',
      },
    });
    const { names, headers } = forwardingSeen(h);
    expect(names).toEqual(['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto']);
    expect(headers['x-forwarded-host']).toBe(`${HOSTED}:${new URL(PUBLIC_URL).port}`);
  });

  it('when a WebSocket upgrade carries spoofed forwarding headers, then the upstream sees ours there too', async () => {
    const hello = await new Promise<{ headers: Record<string, string> }>((resolve, reject) => {
      const ws = new WebSocket(`${h.url.replace('http://', 'ws://')}/live/`, {
        headers: {
          ...bearer(live),
          'X-Forwarded-Host': 'evil.example',
          'X-Forwarded-Prefix': '/admin',
          'X-Forwarded-For': '10.0.0.1',
          Forwarded: 'host=evil.example',
        },
      });
      ws.once('message', (d) => {
        resolve(JSON.parse(String(d)));
        ws.close();
      });
      ws.once('unexpected-response', (_q, res) => reject(new Error(`refused ${res.statusCode}`)));
    });
    expect(hello.headers).toMatchObject({
      'x-forwarded-host': publicHost,
      'x-forwarded-prefix': '/live',
      'x-forwarded-for': '127.0.0.1',
    });
    expect(hello.headers.forwarded).toBeUndefined();
  });

  it('when a trusted proxy forwards, then its chain, scheme and host are kept, but the prefix is ours and underscore spellings never pass', async () => {
    const token = (await trusted.grant('app', 'viewer')).token;
    const reply = await raw(
      trusted.url,
      'GET /app/t HTTP/1.1\r\nHost: proxy.internal\r\n' +
        'X-Forwarded-For: 203.0.113.7\r\nX-Forwarded-Host: access.example.com\r\nX-Forwarded-Proto: https\r\n' +
        'X-Forwarded-Prefix: /admin\r\nX_Forwarded_Host: evil.example\r\nX_Real_IP: 10.0.0.9\r\n' +
        `Authorization: Bearer ${token}\r\nConnection: close\r\n\r\n`,
    );
    expect(reply).toMatch(/^HTTP\/1\.1 200/);
    const { names, headers } = forwardingSeen(trusted);
    expect(names).toEqual(['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-prefix', 'x-forwarded-proto']);
    expect(headers).toMatchObject({
      'x-forwarded-for': '203.0.113.7, 127.0.0.1',
      'x-forwarded-host': 'access.example.com',
      'x-forwarded-proto': 'https',
      'x-forwarded-prefix': '/app',
    });
  });
});

describe('attack: the redirect from /prefix to /prefix/', () => {
  it('when the query tries to steer it (//evil, an absolute URL, a CRLF, a backslash), then the Location is still the prefix with its slash, relative', async () => {
    for (const q of [
      '?next=//evil.example',
      '?u=http://evil.example/',
      '?a=%0d%0aSet-Cookie:x=1',
      '?\\\\evil',
    ]) {
      const a = await send(h.url, `/app${q}`, { headers: bearer(app) });
      expect(a.status).toBe(308);
      expect(a.headers.location).toBe(`/app/${q}`);
      expect(cookiesOf(a)).toEqual([]);
    }
  });

  it('when the prefix is spelled otherwise (case, encoded, doubled slash, a dot, a Host of a host resource), then no redirect to it', async () => {
    const statuses = await Promise.all(
      ['/APP', '/ap%70', '//app', '/app.', '/./app'].map(async (p) => (await send(h.url, p)).status),
    );
    for (const status of statuses) expect(status).not.toBe(308);
    const onHost = await send(h.url, '/app', { headers: { ...bearer(hosted), host: HOSTED } });
    expect(onHost.status).toBe(200);
    expect(onHost.json<Echoed>().path).toBe('/app');
  });
});
