import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';

/**
 * A small browser for sign-in tests, without a browser: plain HTTP with a cookie jar (host-only
 * cookies by host name, Path prefixes, Max-Age=0 deletes) and virtual hosts (a host name mapped to
 * a local port, sent as the Host header), so that `https://access.test.local` and
 * `https://hosted.test.local` both reach the authorizer under test. Secure cookies are kept although
 * the wire is plain HTTP: the host mapping stands in for TLS.
 */
export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  url: string;
  location?: string | undefined;
  /** The Set-Cookie values of this answer. */
  cookies: string[];
}

interface StoredCookie {
  value: string;
  path: string;
}

export class CookieBrowser {
  /** host → cookie name → cookie */
  readonly jar = new Map<string, Map<string, StoredCookie>>();

  constructor(private readonly hosts: Record<string, number>) {}

  /** One request; cookies from the jar, Set-Cookie into it. No redirect is followed. */
  async get(
    url: string,
    opts: { method?: string; accept?: string; headers?: Record<string, string>; body?: string } = {},
  ): Promise<Answer> {
    const target = new URL(url);
    const mapped = this.hosts[target.hostname];
    const port = mapped ?? Number(target.port || 80);
    const cookie = this.cookieHeader(target);
    const headers: Record<string, string> = {
      accept: opts.accept ?? 'text/html,application/xhtml+xml',
      host: target.host,
      ...(cookie ? { cookie } : {}),
      ...opts.headers,
    };
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          method: opts.method ?? 'GET',
          path: `${target.pathname}${target.search}`,
          headers,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const setCookies = res.headers['set-cookie'] ?? [];
            for (const c of setCookies) this.store(target, c);
            const location = res.headers.location;
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString('utf8'),
              url,
              location: location ? new URL(location, url).href : undefined,
              cookies: setCookies,
            });
          });
        },
      );
      req.on('error', reject);
      req.end(opts.body);
    });
  }

  /** Follows redirects (at most `max`), returning every answer on the way, the last one last. */
  async follow(url: string, opts: { accept?: string; max?: number; until?: (a: Answer) => boolean } = {}) {
    const chain: Answer[] = [];
    let next: string | undefined = url;
    for (let i = 0; next && i < (opts.max ?? 15); i++) {
      const answer = await this.get(next, { accept: opts.accept });
      chain.push(answer);
      if (opts.until?.(answer)) break;
      next = answer.status >= 300 && answer.status < 400 ? answer.location : undefined;
    }
    return { chain, last: chain[chain.length - 1]! };
  }

  /** A form POST (urlencoded), as a browser submits it: cookies from the jar, the page's Origin unless given. */
  post(url: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Answer> {
    const body = new URLSearchParams(form).toString();
    return this.get(url, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'content-length': String(Buffer.byteLength(body)),
        origin: new URL(url).origin,
        ...headers,
      },
    });
  }

  cookie(host: string, name: string): string | undefined {
    return this.jar.get(host)?.get(name)?.value;
  }

  setCookie(host: string, name: string, value: string, path = '/'): void {
    this.hostJar(host).set(name, { value, path });
  }

  private hostJar(host: string): Map<string, StoredCookie> {
    let jar = this.jar.get(host);
    if (!jar) {
      jar = new Map();
      this.jar.set(host, jar);
    }
    return jar;
  }

  private cookieHeader(url: URL): string {
    const jar = this.jar.get(url.hostname);
    if (!jar) return '';
    return [...jar.entries()]
      .filter(
        ([, c]) =>
          url.pathname === c.path || url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`),
      )
      .map(([name, c]) => `${name}=${c.value}`)
      .join('; ');
  }

  private store(url: URL, header: string): void {
    const [pair, ...attrs] = header.split(';').map((s) => s.trim());
    const eq = pair!.indexOf('=');
    const name = pair!.slice(0, eq);
    const value = pair!.slice(eq + 1);
    let path = '/';
    let remove = value === '';
    for (const attr of attrs) {
      const [k, v = ''] = attr.split('=');
      if (k!.toLowerCase() === 'path') path = v;
      if (k!.toLowerCase() === 'max-age' && Number(v) <= 0) remove = true;
      if (k!.toLowerCase() === 'expires' && Date.parse(v) <= Date.now()) remove = true;
      if (k!.toLowerCase() === 'domain')
        throw new Error(`a cookie with a Domain attribute was set: ${header}`);
    }
    const jar = this.hostJar(url.hostname);
    if (remove) jar.delete(name);
    else jar.set(name, { value, path });
  }
}
