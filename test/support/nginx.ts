import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's nginx (the package `nginx`); tests that need it skip, saying why, when it is absent. */
export const NGINX = process.env.NGINX_BIN ?? '/usr/sbin/nginx';
export const HAVE_NGINX = existsSync(NGINX);

/** A free loopback port (asked of the kernel, then released for nginx to listen on). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface Nginx {
  url: string;
  port: number;
  /** nginx's error log so far (for a failing test's message). */
  errors(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Starts nginx as a child of this process (no daemon, one worker) with a private prefix, pid file,
 * logs and temp paths, listening on `port`; `http` is the body of its `http {}` block. Resolves
 * once the port accepts connections; rejects with nginx's own words when it exits first.
 */
export async function startNginx(port: number, http: string): Promise<Nginx> {
  const prefix = await mkdtemp(join(tmpdir(), 'jitgate-nginx-'));
  await mkdir(join(prefix, 'logs'));
  const temps = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'];
  const conf = `
worker_processes 1;
daemon off;
master_process on;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;
events { worker_connections 512; }
http {
  access_log off;
${temps.map((t) => `  ${t}_temp_path ${prefix}/${t}_temp;`).join('\n')}
${http}
}
`;
  await writeFile(join(prefix, 'nginx.conf'), conf);
  const child: ChildProcess = spawn(NGINX, ['-p', prefix, '-c', join(prefix, 'nginx.conf')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const errors = () => readFile(join(prefix, 'logs', 'error.log'), 'utf8').catch(() => '');
  try {
    await Promise.race([
      listening(port),
      exited.then(async (code) => {
        throw new Error(`nginx exited (${code}): ${stderr}${await errors()}`);
      }),
    ]);
  } catch (err) {
    child.kill('SIGKILL');
    await rm(prefix, { recursive: true, force: true });
    throw err;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    errors,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGQUIT');
        await exited;
      }
      await rm(prefix, { recursive: true, force: true });
    },
  };
}

/** Until the port accepts a connection (nginx has bound it): tried every 20 ms, up to 10 s. */
async function listening(port: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`nginx did not listen on 127.0.0.1:${port}`);
}

/**
 * The `location`s the README's Forward-auth section gives for nginx: an internal location that asks
 * jitgate (`jitgate` is an `upstream` block), the identity headers set from its answer, the token
 * removed, browsers without a session sent to sign in. `protect(prefix, upstream)` is one protected
 * location; the rest goes once in the `server` block.
 */
export const nginxForwardAuth = {
  server: `
    # The auth route (and every path below it) is for the ingress alone: never reachable from outside.
    location ^~ /_jitgate/auth { return 404; }
    # Redeem links, sign-in and the JWKS stay reachable through the ingress.
    location /_jitgate/ { proxy_pass http://jitgate; proxy_set_header Host $host; proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; }
    location = /_jitgate_auth {
      internal;
      proxy_pass http://jitgate/_jitgate/auth;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      # Every one set here, so that a client's own copies never reach jitgate.
      proxy_set_header X-Original-Method $request_method;
      proxy_set_header X-Original-URI $request_uri;
      proxy_set_header X-Forwarded-Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Method "";
      proxy_set_header X-Forwarded-Uri "";
      proxy_set_header Upgrade $http_upgrade;
    }
    location @jitgate_signin {
      if ($jit_signin = "") { return 401; }
      return 302 $jit_signin;
    }`,
  protect: (prefix: string, upstream: string) => `
    location ${prefix}/ {
      auth_request /_jitgate_auth;
      auth_request_set $jit_user $upstream_http_x_jit_user;
      auth_request_set $jit_email $upstream_http_x_jit_email;
      auth_request_set $jit_grant $upstream_http_x_jit_grant;
      auth_request_set $jit_role $upstream_http_x_jit_role;
      auth_request_set $jit_assertion $upstream_http_x_jit_assertion;
      auth_request_set $jit_signin $upstream_http_x_jit_sign_in;
      auth_request_set $jit_cookie $upstream_http_x_jit_cookie;
      error_page 401 = @jitgate_signin;
      proxy_set_header X-JIT-User $jit_user;
      proxy_set_header X-JIT-Email $jit_email;
      proxy_set_header X-JIT-Grant $jit_grant;
      proxy_set_header X-JIT-Role $jit_role;
      proxy_set_header X-JIT-Assertion $jit_assertion;
      # The token removed: the Authorization header, and jitgate's cookies (X-JIT-Cookie is the
      # client's Cookie header without them; empty: no Cookie header at all).
      proxy_set_header Authorization "";
      proxy_set_header Cookie $jit_cookie;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_pass http://${upstream}/;
    }`,
};
