import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startSlackStandin } from '../../dev/slack/standin.js';
import { createLogger } from '../../shared/log.js';
import { generateSigningKeySet, loadSigningKeys } from '../../shared/tokens/index.js';
import { type Role, type System, startSystem } from '../../system/start.js';
import { deletePrefix, REDIS_TARGET, REDIS_URL, testRedis } from '../support/redis.js';

/** A policy with one resource, `name`, on a path prefix of the same name. */
const policyWith = (name: string) => `
defaults: { approvalChannel: C0APPROVALS }
resources:
  ${name}:
    upstream: http://127.0.0.1:9
    match: { pathPrefix: /${name} }
    approvers: { users: [U0ALICE] }
`;
const BAD = `${policyWith('broken')}    maxDuration: 4 hours\n`;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** JSON log lines as they come, and a wait for the next one with a given message. */
function logTap() {
  const lines: { msg: string; [k: string]: unknown }[] = [];
  const waiters: { from: number; msg: string; resolve: (l: (typeof lines)[number]) => void }[] = [];
  const settle = () => {
    for (const w of [...waiters]) {
      const hit = lines.slice(w.from).find((l) => l.msg === w.msg);
      if (hit) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(hit);
      }
    }
  };
  return {
    lines,
    write(line: string) {
      lines.push(JSON.parse(line));
      settle();
    },
    /** The next line with `msg` from now on (act after calling this, then await it). */
    next(msg: string): Promise<(typeof lines)[number]> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no "${msg}" in the log:\n${JSON.stringify(lines)}`)),
          15_000,
        );
        const done = (l: (typeof lines)[number]) => {
          clearTimeout(timer);
          resolve(l);
        };
        waiters.push({ from: lines.length, msg, resolve: done });
      });
    },
  };
}

/** A folder of its own with `policy.yml` in it. */
function policyDir(text: string): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'jitgate-watch-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'policy.yml');
  writeFileSync(file, text);
  return { dir, file };
}

/** Replaces a file the way editors and deploy tools do: a new file beside it, renamed over it. */
function replaceByRename(file: string, text: string): void {
  const temp = `${file}.tmp-${process.pid}`;
  writeFileSync(temp, text);
  renameSync(temp, file);
}

async function startWatching(roles: Role[], policy: string) {
  const test = await testRedis();
  cleanups.push(() => test.cleanup());
  const standin = await startSlackStandin({ unknownUsers: 'derived' });
  cleanups.push(() => standin.close());
  const log = logTap();
  const system = await startSystem({
    roles,
    overrides: {
      redis: test.redis,
      redisUrl: REDIS_TARGET,
      prefix: test.prefix,
      policy,
      // Polling only every minute: what is tested here is that the folder's events are followed.
      policyWatch: { debounceMs: 50, pollMs: 60_000 },
      signingKeys: await loadSigningKeys(JSON.stringify(await generateSigningKeySet())),
      slack: { botToken: 'xoxb-test', signingSecret: 'secret' },
      slackApiUrl: standin.apiUrl,
      log: createLogger('watch-test', 'info', log),
      botPort: 0,
      authorizerPort: 0,
      authorizerHost: '127.0.0.1',
    },
  });
  cleanups.push(() => system.stop());
  return { system, log };
}

/** The status the authorizer answers for a path, without a token. */
const statusOf = async (system: System, path: string) =>
  (await fetch(`${system.authorizer!.url}${path}`)).status;
const resources = (system: System) => [...system.policy().resources.keys()];

describe('the policy file is followed, however the process was started', () => {
  it('when the file is replaced by a rename, then written in place, then the authorizer answers by the new policy each time', async () => {
    const { file } = policyDir(policyWith('app'));
    const { system, log } = await startWatching(['authorizer'], file);
    expect(await statusOf(system, '/app/')).toBe(401); // a resource: no token
    const unknown = await statusOf(system, '/other/');
    expect(unknown).not.toBe(401);

    let reloaded = log.next('policy reloaded');
    replaceByRename(file, policyWith('other'));
    expect(await reloaded).toMatchObject({ trigger: 'file', resources: 1 });
    expect(await statusOf(system, '/other/')).toBe(401);
    expect(await statusOf(system, '/app/')).toBe(unknown);

    reloaded = log.next('policy reloaded');
    writeFileSync(file, policyWith('third'));
    await reloaded;
    expect(resources(system)).toEqual(['third']);
    expect(await statusOf(system, '/third/')).toBe(401);
  });

  it('when the new file is bad or goes away, then the error is logged and the old policy stays, and a good file is taken again', async () => {
    const { file } = policyDir(policyWith('app'));
    const { system, log } = await startWatching(['authorizer'], file);

    const refused = log.next('policy not reloaded; keeping the current one');
    replaceByRename(file, BAD);
    const line = await refused;
    expect(line.level).toBe(50); // error
    expect(String(line.err)).toContain('resources.broken.maxDuration');
    expect(resources(system)).toEqual(['app']);
    expect(await statusOf(system, '/app/')).toBe(401);

    const unreadable = log.next(`policy file ${file} cannot be read; keeping the current policy`);
    unlinkSync(file);
    expect(await unreadable).toMatchObject({ err: 'ENOENT' });
    expect(resources(system)).toEqual(['app']);

    const yaml = log.next('policy not reloaded; keeping the current one');
    writeFileSync(file, 'resources: [');
    await yaml;
    expect(resources(system)).toEqual(['app']);

    const reloaded = log.next('policy reloaded');
    replaceByRename(file, policyWith('fixed'));
    await reloaded;
    expect(resources(system)).toEqual(['fixed']);
    // SIGHUP's reload still re-reads the file on demand, and refuses a bad one.
    writeFileSync(file, BAD);
    expect(system.reloadPolicy()).toBe(false);
    expect(resources(system)).toEqual(['fixed']);
  });

  it('when a Kubernetes ConfigMap volume is updated (the ..data symlink swapped), then the new policy applies', async () => {
    // The layout the kubelet makes: policy.yml → ..data/policy.yml, ..data → ..<timestamp>/.
    const dir = mkdtempSync(join(tmpdir(), 'jitgate-configmap-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const version = (name: string, text: string) => {
      mkdirSync(join(dir, name));
      writeFileSync(join(dir, name, 'policy.yml'), text);
    };
    version('..2026_12_06_10_00_00.1', policyWith('app'));
    symlinkSync('..2026_12_06_10_00_00.1', join(dir, '..data'));
    symlinkSync('..data/policy.yml', join(dir, 'policy.yml'));
    const { system, log } = await startWatching(['authorizer'], join(dir, 'policy.yml'));
    expect(await statusOf(system, '/app/')).toBe(401);

    // The kubelet's update: a new folder, a ..data_tmp link to it renamed over ..data, the old folder removed.
    const reloaded = log.next('policy reloaded');
    version('..2026_12_06_10_05_00.2', policyWith('swapped'));
    symlinkSync('..2026_12_06_10_05_00.2', join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    rmSync(join(dir, '..2026_12_06_10_00_00.1'), { recursive: true });
    await reloaded;
    expect(resources(system)).toEqual(['swapped']);
    expect(await statusOf(system, '/swapped/')).toBe(401);
  });

  it('when the bot and the worker run, then they follow the file too', async () => {
    const { file } = policyDir(policyWith('app'));
    const { system, log } = await startWatching(['bot', 'worker'], file);
    const reloaded = log.next('policy reloaded');
    replaceByRename(file, policyWith('other'));
    await reloaded;
    expect(resources(system)).toEqual(['other']);
    expect(system.deps).toBeDefined();
  });
});

describe('a process started through npm', () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    // npm and the node it started are one process group: end both.
    if (child?.pid) process.kill(-child.pid, 'SIGKILL');
  });

  it('when started as npm run dev:authorizer and its policy file changes, then it answers by the new policy without a signal', async () => {
    const { file } = policyDir(policyWith('app'));
    const prefix = `t-watch-${process.pid}-${Date.now()}`;
    const log = logTap();
    let buffered = '';
    child = spawn('npm', ['run', '-s', 'dev:authorizer'], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        REDIS_URL,
        JITGATE_REDIS_PREFIX: prefix,
        JITGATE_POLICY: file,
        JITGATE_SIGNING_KEYS: JSON.stringify(await generateSigningKeySet('ES256')),
        AUTHORIZER_PORT: '0',
        LOG_LEVEL: 'info',
      },
    });
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) if (line.startsWith('{')) log.write(line);
    };
    child.stdout!.on('data', onData);
    child.stderr!.resume();
    cleanups.push(async () => {
      const { connectRedis } = await import('../../shared/redis/connect.js');
      const redis = connectRedis(REDIS_TARGET);
      await deletePrefix(redis, prefix).catch(() => {});
      redis.disconnect();
    });
    const started = await log.next('jitgate authorizer started');
    const url = `http://127.0.0.1:${started.port as number}`;
    expect((await fetch(`${url}/app/`)).status).toBe(401);

    const reloaded = log.next('policy reloaded');
    replaceByRename(file, policyWith('other'));
    expect(await reloaded).toMatchObject({ trigger: 'file' });
    expect((await fetch(`${url}/other/`)).status).toBe(401);
    expect((await fetch(`${url}/app/`)).status).not.toBe(401);
  }, 60_000);
});
