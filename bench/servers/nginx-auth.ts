import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's nginx; the bench leaves the forward-auth run out, saying why, when it is absent. */
export const NGINX_BIN = process.env.NGINX_BIN ?? '/usr/sbin/nginx';
export const haveNginx = (): boolean => existsSync(NGINX_BIN);

/**
 * nginx in forward-auth mode for the bench: `/app/` proxied to the upstream (prefix stripped) after
 * an `auth_request` to jitgate's `/_jitgate/auth`, with the identity headers copied onto the request
 * and the token removed, as the README's nginx configuration does; keep-alive to both (64 idle
 * connections each), one worker without a master (its CPU time is the one process's), an access log
 * line per request through a 32 KiB buffer. `jitgateUrl` must trust 127.0.0.1 (JITGATE_TRUSTED_PROXIES).
 *
 * @example const nginx = await startNginxAuth({ upstreamUrl, jitgateUrl }); … await nginx.stop();
 */
export async function startNginxAuth(options: {
  upstreamUrl: string;
  jitgateUrl: string;
}): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'jitgate-bench-nginx-auth-'));
  const port = await freePort();
  const upstream = new URL(options.upstreamUrl).host;
  const jitgate = new URL(options.jitgateUrl).host;
  const identity = ['user', 'email', 'grant', 'role', 'assertion'];
  const conf = `
daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log ${dir}/access.log combined buffer=32k;
${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${dir}/${t};`).join('\n')}
  keepalive_timeout 120s;
  keepalive_requests 1000000;
  upstream app { server ${upstream}; keepalive 64; keepalive_requests 1000000; }
  upstream jitgate { server ${jitgate}; keepalive 64; keepalive_requests 1000000; }
  server {
    listen 127.0.0.1:${port};
    location ^~ /_jitgate/auth { return 404; }
    location = /_jitgate_auth {
      internal;
      proxy_pass http://jitgate/_jitgate/auth;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Original-Method $request_method;
      proxy_set_header X-Original-URI $request_uri;
      proxy_set_header X-Forwarded-Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Method "";
      proxy_set_header X-Forwarded-Uri "";
      proxy_set_header Upgrade $http_upgrade;
    }
    location /app/ {
      auth_request /_jitgate_auth;
${identity.map((h) => `      auth_request_set $jit_${h} $upstream_http_x_jit_${h};\n      proxy_set_header X-JIT-${h} $jit_${h};`).join('\n')}
      auth_request_set $jit_cookie $upstream_http_x_jit_cookie;
      proxy_set_header Cookie $jit_cookie;
      proxy_set_header Authorization "";
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_pass http://app/;
    }
  }
}
`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const child: ChildProcess = spawn(
    NGINX_BIN,
    ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const why = () => `${stderr}${readOr(join(dir, 'error.log'))}`;
  try {
    await listening(port, child, why);
  } catch (err) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGQUIT');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** CPU time (µs) a process has used so far, from /proc (clock ticks of 10 ms). */
export function nginxCpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The fields after the command name (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / 100;
}

function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export async function listening(port: number, child: ChildProcess, why: () => string): Promise<void> {
  for (let i = 0; i < 200; i += 1) {
    if (child.exitCode !== null) throw new Error(`nginx exited at start: ${why()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`nginx did not listen on ${port}: ${why()}`);
}
