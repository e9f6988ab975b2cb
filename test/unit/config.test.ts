import { describe, expect, it } from 'vitest';
import { loadConfig, postgresListenerConfig, requireSlack, signInConfig } from '../../shared/config.js';
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

  it('when SLACK_APP_TOKEN is not an app-level token (a bot token pasted twice), then it is refused with where to make one', () => {
    for (const token of ['xoxb-123-456', 'xoxp-1', 'app-token']) {
      expect(problemsOf({ SLACK_APP_TOKEN: token })).toMatch(
        /SLACK_APP_TOKEN: must be the app-level token \(xapp-…\)[^\n]*connections:write/,
      );
    }
  });
});

describe('sign-in configuration', () => {
  const slack = {
    JITGATE_OIDC_ISSUER: 'https://slack.com',
    JITGATE_OIDC_CLIENT_ID: '123.456',
    JITGATE_OIDC_CLIENT_SECRET: 's3cret',
  };

  it('when the issuer is unset, then sign-in is off and the defaults are still typed', () => {
    const config = loadConfig({});
    expect(signInConfig(config)).toBeUndefined();
    expect(config.JITGATE_OIDC_SCOPES).toEqual(['openid', 'email', 'profile']);
    expect(config.JITGATE_SESSION_TTL).toBe(12 * 3_600_000);
  });

  it('when the issuer and its client are set, then sign-in is on with the default scopes and 12h sessions', () => {
    expect(signInConfig(loadConfig(slack))).toEqual({
      issuer: 'https://slack.com',
      clientId: '123.456',
      clientSecret: 's3cret',
      scopes: ['openid', 'email', 'profile'],
      sessionTtlMs: 12 * 3_600_000,
      matchBy: 'slack',
    });
  });

  it('when scopes and a session lifetime are given, then they are parsed like the policy durations', () => {
    const config = loadConfig({
      ...slack,
      JITGATE_OIDC_SCOPES: 'openid email',
      JITGATE_SESSION_TTL: '1h30m',
    });
    expect(signInConfig(config)).toMatchObject({ scopes: ['openid', 'email'], sessionTtlMs: 5_400_000 });
  });

  it('when the issuer is set without its client id and secret, then one error lists both', () => {
    const message = problemsOf({ JITGATE_OIDC_ISSUER: 'https://idp.example.com', BOT_PORT: 'eighty' });
    expect(message).toMatch(/JITGATE_OIDC_CLIENT_ID: not set, but JITGATE_OIDC_ISSUER is/);
    expect(message).toMatch(/JITGATE_OIDC_CLIENT_SECRET: not set, but JITGATE_OIDC_ISSUER is/);
    expect(message).toContain('BOT_PORT:');
  });

  it('when the issuer is http:// on a host that is not loopback, then it is refused with the reason', () => {
    const message = problemsOf({ ...slack, JITGATE_OIDC_ISSUER: 'http://idp.example.com' });
    expect(message).toMatch(/JITGATE_OIDC_ISSUER: must be https:\/\/ .*idp\.example\.com is not loopback/);
  });

  it('when the issuer is another IdP, then people are matched by verified e-mail, and its issuer is kept as written', () => {
    const okta = signInConfig(
      loadConfig({ ...slack, JITGATE_OIDC_ISSUER: 'https://acme.okta.com/oauth2/default/' }),
    );
    expect(okta).toMatchObject({ issuer: 'https://acme.okta.com/oauth2/default/', matchBy: 'email' });
  });

  it('when the issuer is http:// on loopback, then it is accepted (tests and the demo)', () => {
    for (const issuer of ['http://127.0.0.1:4010', 'http://localhost:4010/', 'http://[::1]:4010']) {
      expect(signInConfig(loadConfig({ ...slack, JITGATE_OIDC_ISSUER: issuer }))).toMatchObject({
        issuer,
        matchBy: 'email',
      });
    }
  });

  it('when the issuer, scopes or lifetime are malformed, then each is named', () => {
    const message = problemsOf({
      ...slack,
      JITGATE_OIDC_ISSUER: 'ftp://idp.example.com',
      JITGATE_OIDC_SCOPES: 'email profile',
      JITGATE_SESSION_TTL: 'forever',
    });
    expect(message).toMatch(/JITGATE_OIDC_ISSUER: must be an https:\/\/ URL/);
    expect(message).toMatch(/JITGATE_OIDC_SCOPES: must include openid/);
    expect(message).toMatch(/JITGATE_SESSION_TTL: must be a duration/);
  });
});

describe('PostgreSQL gateway configuration', () => {
  it('when the port is unset, then the gateway is off', () => {
    expect(postgresListenerConfig(loadConfig({}))).toBeUndefined();
  });

  it('when the port, certificate and key are set, then TLS is on', () => {
    const pg = postgresListenerConfig(
      loadConfig({
        JITGATE_POSTGRES_PORT: '6432',
        JITGATE_POSTGRES_TLS_CERT: '/c.pem',
        JITGATE_POSTGRES_TLS_KEY: '/k.pem',
      }),
    );
    expect(pg).toEqual({ port: 6432, tls: { cert: '/c.pem', key: '/k.pem' }, plaintext: false });
  });

  it('when only the port is set, then there is no TLS and plaintext stays off unless said', () => {
    expect(postgresListenerConfig(loadConfig({ JITGATE_POSTGRES_PORT: '6432' }))).toEqual({
      port: 6432,
      tls: undefined,
      plaintext: false,
    });
    expect(
      postgresListenerConfig(loadConfig({ JITGATE_POSTGRES_PORT: '6432', JITGATE_POSTGRES_PLAINTEXT: 'on' }))
        ?.plaintext,
    ).toBe(true);
  });

  it('when a certificate comes without its key, a bad port or a bad plaintext value, then each is named with its fix', () => {
    const text = problemsOf({
      JITGATE_POSTGRES_PORT: 'x',
      JITGATE_POSTGRES_TLS_CERT: '/c.pem',
      JITGATE_POSTGRES_PLAINTEXT: 'yes',
    });
    expect(text).toContain('JITGATE_POSTGRES_PORT: must be a port number');
    expect(text).toContain('JITGATE_POSTGRES_TLS_KEY: not set, but JITGATE_POSTGRES_TLS_CERT is');
    expect(text).toContain('JITGATE_POSTGRES_PLAINTEXT: must be on or off');
  });
});
