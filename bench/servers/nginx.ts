import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, listening, NGINX_BIN } from './nginx-auth.js';

/**
 * nginx as a plain reverse proxy in front of the same upstream, for reference: configured like the
 * forward-auth one (nginx-auth.ts) without the auth_request — one worker without a master (its CPU
 * time is the one process's; jitgate is one Node process), `/app/` proxied with the prefix
 * stripped, HTTP/1.1 keep-alive to the upstream (64 idle connections, as the Node proxies' agents
 * keep), an access log line per request through a 32 KiB buffer.
 *
 * @example const nginx = await startNginx(upstreamUrl); … await nginx.stop();
 */
export async function startNginx(
  upstreamUrl: string,
): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'jitgate-bench-nginx-'));
  const port = await freePort();
  const upstream = new URL(upstreamUrl).host;
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
  server {
    listen 127.0.0.1:${port};
    location /app/ {
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
  try {
    await listening(port, child, () => `${stderr}${readOr(join(dir, 'error.log'))}`);
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

function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
