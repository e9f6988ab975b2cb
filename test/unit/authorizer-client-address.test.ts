import { describe, expect, it } from 'vitest';
import { clientResolver, networkAllows, parseAddress } from '../../authorizer/checks/client-address.js';

describe('parseAddress', () => {
  it('when an address is IPv4-mapped IPv6, then it becomes plain IPv4', () => {
    expect(parseAddress('::ffff:10.1.2.3')?.toString()).toBe('10.1.2.3');
  });

  it('when a proxy wrote a port, then it is dropped', () => {
    expect(parseAddress('10.1.2.3:5555')?.toString()).toBe('10.1.2.3');
    expect(parseAddress('[2001:db8::1]:443')?.toString()).toBe('2001:db8::1');
  });

  it('when the text is not an address, then it is undefined', () => {
    expect(parseAddress('unknown')).toBeUndefined();
    expect(parseAddress('')).toBeUndefined();
    expect(parseAddress(undefined)).toBeUndefined();
  });
});

describe('clientResolver', () => {
  it('when there are no trusted proxies, then the socket address is the client and X-Forwarded-For is ignored', () => {
    const resolve = clientResolver([]);
    const info = resolve('::ffff:127.0.0.1', '10.9.9.9');
    expect(info.client?.toString()).toBe('127.0.0.1');
    expect(info.peerTrusted).toBe(false);
  });

  it('when the peer is not a trusted proxy, then its X-Forwarded-For is ignored', () => {
    const resolve = clientResolver(['10.0.0.0/8']);
    expect(resolve('192.0.2.7', '10.9.9.9').client?.toString()).toBe('192.0.2.7');
  });

  it('when the peer is a trusted proxy, then the right-most untrusted X-Forwarded-For entry is the client', () => {
    const resolve = clientResolver(['10.0.0.0/8']);
    // The left-most entry was written by the client itself and proves nothing.
    const info = resolve('10.0.0.2', '203.0.113.66, 198.51.100.9, 10.0.0.7');
    expect(info.client?.toString()).toBe('198.51.100.9');
    expect(info.peerTrusted).toBe(true);
    expect(info.peer).toBe('10.0.0.2');
  });

  it('when a trusted peer is IPv4-mapped IPv6, then it is still recognised', () => {
    const resolve = clientResolver(['127.0.0.1/32']);
    expect(resolve('::ffff:127.0.0.1', '198.51.100.9').client?.toString()).toBe('198.51.100.9');
  });

  it('when a trusted proxy sends no X-Forwarded-For, then the proxy itself is the client', () => {
    const resolve = clientResolver(['10.0.0.0/8']);
    expect(resolve('10.0.0.2', undefined).client?.toString()).toBe('10.0.0.2');
  });

  it('when an X-Forwarded-For entry is garbage, then the client is unknown', () => {
    const resolve = clientResolver(['10.0.0.0/8']);
    expect(resolve('10.0.0.2', '198.51.100.9, not-an-ip').client).toBeUndefined();
  });

  it('when a trusted proxy is not a CIDR, then building the resolver fails with the variable named', () => {
    expect(() => clientResolver(['10.0.0.0/33'])).toThrow(/JITGATE_TRUSTED_PROXIES/);
  });
});

describe('networkAllows', () => {
  const nets = ['10.0.0.0/8', '2001:db8::/32'];

  it('when the list is empty, then every address is allowed', () => {
    expect(networkAllows([], parseAddress('203.0.113.1'))).toBe(true);
  });

  it('when the address is inside a range of either family, then it is allowed', () => {
    expect(networkAllows(nets, parseAddress('10.20.30.40'))).toBe(true);
    expect(networkAllows(nets, parseAddress('::ffff:10.20.30.40'))).toBe(true);
    expect(networkAllows(nets, parseAddress('2001:db8::5'))).toBe(true);
  });

  it('when the address is outside, or unknown, then it is refused', () => {
    expect(networkAllows(nets, parseAddress('11.0.0.1'))).toBe(false);
    expect(networkAllows(nets, parseAddress('2001:db9::1'))).toBe(false);
    expect(networkAllows(nets, undefined)).toBe(false);
  });

  it('when a range is written IPv4-mapped, then it matches the IPv4 addresses it maps', () => {
    expect(networkAllows(['::ffff:10.0.0.0/104'], parseAddress('10.1.1.1'))).toBe(true);
  });
});
