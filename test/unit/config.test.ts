import { describe, expect, it } from 'vitest';
import { loadConfig, requireSlack } from '../../shared/config.js';
import { JitgateError } from '../../shared/errors.js';

function problemsOf(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof JitgateError && err.code === 'config_invalid') return err.message;
    throw err;
  }
  throw new Error('expected config_invalid');
}

describe('loadConfig', () => {
  it('when the environment is empty, then every default of DESIGN.md applies', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      REDIS_URL: 'redis://127.0.0.1:6379',
      JITGATE_POLICY: './policy.yml',
      JITGATE_PUBLIC_URL: 'http://127.0.0.1:8080',
      BOT_PORT: 3000,
      AUTHORIZER_PORT: 8080,
      JITGATE_WORKER: 'on',
      JITGATE_REDIS_PREFIX: 'jitgate',
      JITGATE_TRUSTED_PROXIES: [],
      LOG_LEVEL: 'info',
    });
  });

  it('when values are given, then they are parsed and typed', () => {
    const config = loadConfig({
      BOT_PORT: '3100',
      JITGATE_PUBLIC_URL: 'https://access.example.com/',
      JITGATE_TRUSTED_PROXIES: '10.0.0.0/8, 192.168.1.1/32',
      JITGATE_WORKER: 'off',
    });
    expect(config.BOT_PORT).toBe(3100);
    expect(config.JITGATE_PUBLIC_URL).toBe('https://access.example.com');
    expect(config.JITGATE_TRUSTED_PROXIES).toEqual(['10.0.0.0/8', '192.168.1.1/32']);
    expect(config.JITGATE_WORKER).toBe('off');
  });

  it('when several variables are bad, then one error lists each with its fix', () => {
    const message = problemsOf({
      REDIS_URL: 'localhost:6379',
      BOT_PORT: 'eighty',
      AUTHORIZER_PORT: '70000',
      JITGATE_WORKER: 'maybe',
      JITGATE_PUBLIC_URL: 'ftp://x',
      JITGATE_REDIS_PREFIX: '{bad}',
      LOG_LEVEL: 'loud',
    });
    for (const name of [
      'REDIS_URL',
      'BOT_PORT',
      'AUTHORIZER_PORT',
      'JITGATE_WORKER',
      'JITGATE_PUBLIC_URL',
      'JITGATE_REDIS_PREFIX',
      'LOG_LEVEL',
    ]) {
      expect(message).toContain(`${name}:`);
    }
    expect(message).toContain('e.g. REDIS_URL=redis://127.0.0.1:6379');
  });

  it('when Slack credentials are missing, then requireSlack points to the demo and the manifest', () => {
    expect(() => requireSlack(loadConfig({}))).toThrow(/SLACK_BOT_TOKEN[\s\S]*npm run demo/);
    expect(requireSlack(loadConfig({ SLACK_BOT_TOKEN: 'xoxb-x', SLACK_APP_TOKEN: 'xapp-y' })).appToken).toBe(
      'xapp-y',
    );
  });
});
