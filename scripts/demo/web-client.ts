/**
 * A browser reduced to what the demo narrates: pages as text, redirects followed, cookies kept per
 * host name (as browsers do: ports share them), a form posted with this page's Origin.
 */
export class WebClient {
  private readonly jar = new Map<string, Map<string, string>>();

  /** GET `url` as a browser asks for a page, following redirects; answers the last page. */
  async open(url: string): Promise<{ status: number; url: string; body: string }> {
    let next = url;
    for (let hops = 0; hops < 20; hops++) {
      const res = await this.send(next, { method: 'GET' });
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        await res.arrayBuffer();
        next = new URL(location, next).href;
        continue;
      }
      return { status: res.status, url: next, body: await res.text() };
    }
    throw new Error(`too many redirects from ${url}`);
  }

  /** POSTs a form from a page of `url`'s origin; answers the page it leads to (redirects followed). */
  async submit(
    url: string,
    form: Record<string, string>,
  ): Promise<{ status: number; url: string; body: string }> {
    const res = await this.send(url, {
      method: 'POST',
      body: new URLSearchParams(form).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(url).origin },
    });
    const location = res.headers.get('location');
    if (res.status === 303 && location) {
      await res.arrayBuffer();
      return this.open(new URL(location, url).href);
    }
    return { status: res.status, url, body: await res.text() };
  }

  /** A JSON endpoint, with the cookies of its host. */
  async json(url: string): Promise<Record<string, unknown>> {
    const res = await this.send(url, { method: 'GET', headers: { accept: 'application/json' } });
    return (await res.json()) as Record<string, unknown>;
  }

  private async send(url: string, init: { method: string; body?: string; headers?: Record<string, string> }) {
    const host = new URL(url).hostname;
    const cookies = [...(this.jar.get(host) ?? new Map()).entries()].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { accept: 'text/html', ...(cookies ? { cookie: cookies } : {}), ...init.headers },
    });
    for (const set of res.headers.getSetCookie()) {
      const [pair = '', ...attrs] = set.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const jar = this.jar.get(host) ?? new Map<string, string>();
      this.jar.set(host, jar);
      if (value === '' || attrs.some((a) => /^\s*max-age=0\s*$/i.test(a))) jar.delete(name);
      else jar.set(name, value);
    }
    return res;
  }
}
