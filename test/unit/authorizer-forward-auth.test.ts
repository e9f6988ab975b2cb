import { describe, expect, it } from 'vitest';
import { originalRequest } from '../../authorizer/forward-auth/original.js';
import { isForwardAuthPath } from '../../authorizer/forward-auth/route.js';
import { signInUrls } from '../../authorizer/forward-auth/sign-in.js';
import { loadPolicy } from '../../shared/policy/index.js';

const h = (headers: Record<string, string | string[]>) =>
  Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v : [v]]));

describe('forward-auth: the original request an ingress names', () => {
  it('when the ingress is not trusted, then refused whatever it sends', () => {
    const read = originalRequest(h({ 'x-original-method': 'GET', 'x-original-uri': '/app/' }), false);
    expect(read).toMatchObject({ ok: false, refusal: { code: 'network_not_allowed' } });
  });

  it('when nginx or Traefik names it, then method (upper-cased), URI, host and upgrade are read', () => {
    expect(
      originalRequest(h({ 'X-Original-Method': 'get', 'X-Original-URI': '/a?b=1', host: 'x' }), true),
    ).toEqual({
      ok: true,
      request: { method: 'GET', uri: '/a?b=1', host: 'x', websocket: false },
    });
    const traefik = h({
      'X-Forwarded-Method': 'POST',
      'X-Forwarded-Uri': '/a',
      'X-Forwarded-Host': 'app.example.com:8443',
      host: 'jitgate:8080',
      upgrade: 'WebSocket',
    });
    expect(originalRequest(traefik, true)).toEqual({
      ok: true,
      request: { method: 'POST', uri: '/a', host: 'app.example.com:8443', websocket: true },
    });
  });

  it('when both conventions agree, then taken; when they disagree or one is doubled, then refused', () => {
    const both = {
      'X-Original-Method': 'GET',
      'X-Original-URI': '/a',
      'X-Forwarded-Method': 'GET',
      'X-Forwarded-Uri': '/a',
    };
    expect(originalRequest(h(both), true).ok).toBe(true);
    expect(originalRequest(h({ ...both, 'X-Forwarded-Uri': '/b' }), true)).toMatchObject({ ok: false });
    expect(originalRequest(h({ ...both, 'X-Forwarded-Method': 'DELETE' }), true)).toMatchObject({
      ok: false,
    });
    expect(originalRequest(h({ ...both, 'X-Original-URI': ['/a', '/a'] }), true)).toMatchObject({
      ok: false,
    });
    expect(originalRequest(h({ ...both, 'X-Forwarded-Host': ['a', 'b'] }), true)).toMatchObject({
      ok: false,
    });
  });

  it('when a method, host or URI is malformed, then refused with what is wrong', () => {
    const ask = (extra: Record<string, string>) =>
      originalRequest(h({ 'X-Original-Method': 'GET', 'X-Original-URI': '/a', ...extra }), true);
    for (const method of ['', 'GET POST', 'G\tET', 'GET/1', 'x'.repeat(33)]) {
      expect(ask({ 'X-Original-Method': method }), method).toMatchObject({
        ok: false,
        refusal: { code: 'input_invalid' },
      });
    }
    for (const host of ['a,b', 'a b', 'u@h', 'h/p', 'h:port', '']) {
      expect(ask({ 'X-Forwarded-Host': host }), host).toMatchObject({ ok: false });
    }
    for (const uri of ['', 'a', '//x/a', 'http://x/a', '/a/../b', '/a/%2e%2e/b', '/a#f', '/a\\b']) {
      expect(ask({ 'X-Original-URI': uri }), uri).toMatchObject({ ok: false });
    }
  });
});

describe('forward-auth: its path', () => {
  it('when the path is /_jitgate/auth, below it or with a query, in any case, then it is the route; else not', () => {
    for (const p of [
      '/_jitgate/auth',
      '/_jitgate/auth?signin=redirect',
      '/_jitgate/auth/app/x',
      '/_JITGATE/Auth',
    ]) {
      expect(isForwardAuthPath(p), p).toBe(true);
    }
    for (const p of [
      '/_jitgate/authx',
      '/_jitgate/aut',
      '/_jitgate/',
      '/app/_jitgate/auth',
      '/_jitgate/auth#',
    ]) {
      expect(isForwardAuthPath(p), p).toBe(false);
    }
  });
});

describe('forward-auth: where a browser signs in', () => {
  const policy = loadPolicy(`
defaults: { approvalChannel: C0APPROVALS, defaultDuration: 1h }
resources:
  grafana: { upstream: http://127.0.0.1:3000, match: { host: grafana.example.com }, approvers: { users: [U0BOSS] } }
  app: { upstream: http://127.0.0.1:3001, match: { pathPrefix: /app }, browser: shared-origin, approvers: { users: [U0BOSS] } }
`);
  const signInUrl = signInUrls('https://access.example.com', () => policy);

  it('when the host is one jitgate protects, then its own /_jitgate/signin, returning to the page', () => {
    const url = new URL(signInUrl('grafana.example.com', '/d/x?y=1')!);
    expect(`${url.origin}${url.pathname}`).toBe('https://grafana.example.com/_jitgate/signin');
    expect(url.searchParams.get('return')).toBe('https://grafana.example.com/d/x?y=1');
    expect(new URL(signInUrl('access.example.com', '/app/')!).searchParams.get('return')).toBe(
      'https://access.example.com/app/',
    );
  });

  it('when the host is not one of jitgate’s or the path cannot be returned to, then no URL', () => {
    expect(signInUrl('evil.example.com', '/')).toBeUndefined();
    expect(signInUrl('grafana.example.com', '//evil.example.com/')).toBeUndefined();
    expect(signInUrl('grafana.example.com', '/%2f%2fevil')).toBeUndefined();
  });
});
