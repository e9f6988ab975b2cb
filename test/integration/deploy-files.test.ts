import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const hasCompose = spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0;
if (!hasCompose)
  console.warn(
    'docker-compose is not installed: skipping the compose check (apt-get install docker-compose)',
  );

describe('deployment files', () => {
  it.runIf(hasCompose)('when docker-compose reads docker-compose.yml, then it validates', () => {
    const out = execFileSync('docker-compose', ['config'], { encoding: 'utf8', env: { ...process.env } });
    const config = parse(out) as { services: Record<string, { environment?: Record<string, string> }> };
    expect(Object.keys(config.services).sort()).toEqual(['authorizer', 'bot', 'redis', 'whoami', 'worker']);
    expect(config.services.bot?.environment?.JITGATE_WORKER).toBe('off');
    expect(config.services.authorizer?.environment?.REDIS_URL).toBe('redis://redis:6379');
  });

  it('when reading the Dockerfile, then it builds in stages and runs as a non-root user', () => {
    const dockerfile = readFileSync('Dockerfile', 'utf8');
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toContain('--omit=dev');
  });

  it('when reading .env.example, then it holds placeholders, not secrets', () => {
    const env = readFileSync('.env.example', 'utf8');
    expect(env).not.toMatch(/xox[bpa]-\d/);
    expect(env).not.toMatch(/"d"\s*:/);
  });
});
