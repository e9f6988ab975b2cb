import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSlackStandin } from '../../dev/slack/standin.js';
import { connectRedis } from '../../shared/redis/connect.js';
import { generateSigningKeySet } from '../../shared/tokens/index.js';
import { deletePrefix, REDIS_URL } from '../support/redis.js';
import { type PlayedStage, parseDockerfile, playDockerfile } from './dockerfile.js';

/**
 * The image as `docker build` would make it, without a Docker engine: every stage of the Dockerfile
 * played in a temporary folder holding only what it copies (npm ci, then npm run build; production
 * dependencies alone in the final stage), then the built authorizer and the demo run from it.
 * Slow (npm ci twice), so it is not part of `npm test`: `npm run test:image`, and CI runs it.
 * JITGATE_IMAGE_CONTEXT builds another checkout instead of this one.
 */
const context = process.env.JITGATE_IMAGE_CONTEXT ?? process.cwd();
let workRoot: string;
let image: PlayedStage;

/** A process's environment with nothing of this test's own (npm's variables, NODE_ENV, LOG_LEVEL …). */
function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const base: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR']) {
    const value = process.env[name];
    if (value !== undefined) base[name] = value;
  }
  return { ...base, ...extra };
}

/** What a process in the image sees: the image's ENV and what the test sets. */
const imageEnv = (extra: Record<string, string>) => cleanEnv({ ...image.env, ...extra });

beforeAll(() => {
  workRoot = mkdtempSync(join(tmpdir(), 'jitgate-image-'));
  const stages = parseDockerfile(readFileSync(join(context, 'Dockerfile'), 'utf8'));
  // The npm cache this machine already has makes both installs fast; the packages are the same.
  const played = playDockerfile(stages, {
    context,
    workRoot,
    env: cleanEnv({}),
    rewriteRun: (command) => command.replace(/\bnpm ci\b/, 'npm ci --prefer-offline'),
  });
  image = played.at(-1)!;
});

afterAll(() => {
  if (workRoot) rmSync(workRoot, { recursive: true, force: true });
});

describe('the image, built from exactly what the Dockerfile copies', () => {
  it('when built, then it holds every entry file, the policy example and production dependencies only', () => {
    const entries = [
      image.cmd?.at(-1) ?? 'no CMD',
      'dist/bot/main.js',
      'dist/bot/worker-main.js',
      'dist/authorizer/main.js',
      'dist/scripts/demo.js',
      'dist/shared/file-watch.js',
      'scripts/ensure-build.mjs',
      'policy.example.yml',
      'node_modules/@slack/bolt/package.json',
    ];
    for (const file of entries) expect(existsSync(join(image.dir, file)), file).toBe(true);
    for (const dev of ['typescript', 'vitest', 'tsx', '@biomejs/biome']) {
      expect(existsSync(join(image.dir, 'node_modules', dev)), `${dev} is a dev dependency`).toBe(false);
    }
    expect(existsSync(join(image.dir, 'test')), 'the tests stay out of the image').toBe(false);
  });

  it('when the built authorizer starts with production dependencies only, then readyz answers 200', async () => {
    const prefix = `t-image-${randomUUID().slice(0, 8)}`;
    const child = spawn(process.execPath, ['dist/authorizer/main.js'], {
      cwd: image.dir,
      env: imageEnv({
        REDIS_URL,
        JITGATE_SIGNING_KEYS: JSON.stringify(await generateSigningKeySet()),
        JITGATE_POLICY: 'policy.example.yml',
        AUTHORIZER_PORT: '0',
        JITGATE_REDIS_PREFIX: prefix,
        LOG_LEVEL: 'info',
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const port = await startedPort(child);
      const res = await fetch(`http://127.0.0.1:${port}/_jitgate/readyz`);
      expect(res.status).toBe(200);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
      const redis = connectRedis(REDIS_URL);
      await deletePrefix(redis, prefix).catch(() => {});
      redis.disconnect();
    }
  });

  it('when npm start runs in the image, then it runs the build as it is (no sources, nothing to build): bot, worker and authorizer answer and follow a policy change', async () => {
    const prefix = `t-image-${randomUUID().slice(0, 8)}`;
    const standin = await startSlackStandin({ tokens: ['xoxb-image'], unknownUsers: 'derived' });
    const dir = mkdtempSync(join(tmpdir(), 'jitgate-image-policy-'));
    const policy = (name: string) =>
      `defaults: { approvalChannel: C0APPROVALS }\nresources:\n  ${name}:\n    upstream: http://127.0.0.1:9\n    match: { pathPrefix: /${name} }\n    approvers: { users: [U0ALICE] }\n`;
    writeFileSync(join(dir, 'policy.yml'), policy('app'));
    const child = spawn('npm', ['start'], {
      cwd: image.dir,
      detached: true,
      env: imageEnv({
        REDIS_URL,
        JITGATE_SIGNING_KEYS: JSON.stringify(await generateSigningKeySet('ES256')),
        JITGATE_POLICY: join(dir, 'policy.yml'),
        AUTHORIZER_PORT: '0',
        BOT_PORT: '0',
        JITGATE_REDIS_PREFIX: prefix,
        SLACK_BOT_TOKEN: 'xoxb-image',
        SLACK_SIGNING_SECRET: 'image-secret',
        SLACK_API_URL: standin.apiUrl,
        LOG_LEVEL: 'info',
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    const logged = async (pattern: RegExp) => {
      for (let i = 0; i < 600; i++) {
        const m = pattern.exec(out);
        if (m) return m;
        if (child.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`not in the output (${pattern}):\n${out}`);
    };
    try {
      const started = await logged(/"botPort":(\d+),"authorizerPort":(\d+)[^\n]*"jitgate started/);
      expect(out).not.toContain('building it'); // the image has dist/ and no sources
      const authorizer = `http://127.0.0.1:${started[2]}`;
      expect((await fetch(`${authorizer}/_jitgate/readyz`)).status).toBe(200);
      expect((await fetch(`http://127.0.0.1:${started[1]}/_jitgate/healthz`)).status).toBe(200);
      expect((await fetch(`${authorizer}/app/`)).status).toBe(401);
      writeFileSync(join(dir, 'policy.next'), policy('other'));
      renameSync(join(dir, 'policy.next'), join(dir, 'policy.yml'));
      await logged(/"trigger":"file"[^\n]*"policy reloaded"/);
      expect((await fetch(`${authorizer}/other/`)).status).toBe(401);
    } finally {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone (its output is in the failure above)
      }
      await standin.close();
      rmSync(dir, { recursive: true, force: true });
      const redis = connectRedis(REDIS_URL);
      await deletePrefix(redis, prefix).catch(() => {});
      redis.disconnect();
    }
  });

  it('when the demo runs from the image, then every step behaves', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['dist/scripts/demo.js'], {
      cwd: image.dir,
      env: imageEnv({ REDIS_URL, NO_COLOR: '1' }),
      timeout: 120_000,
    });
    expect(stdout).toContain('Every step behaved as expected.');
    // oidc-provider is a development dependency: the image's demo says it skipped the signed-in part.
    expect(stdout).toContain('The signed-in part was skipped');
  });
});

/** The port from the authorizer's "started" log line, or its output if it exits or stays silent. */
function startedPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the authorizer did not start:\n${out}`)), 30_000);
    const read = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /"port":(\d+)[^\n]*"jitgate authorizer started"/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout?.on('data', read);
    child.stderr?.on('data', read);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the authorizer exited with ${code}:\n${out}`));
    });
  });
}
