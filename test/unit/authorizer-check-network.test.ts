import { describe, expect, it } from 'vitest';
import { clientResolver } from '../../authorizer/checks/client-address.js';
import { networkCheck } from '../../authorizer/checks/network.js';
import { statusFor } from '../../authorizer/refusals.js';
import { attempt, clientAt, grafana, routed, wiki } from './authorizer-checks-fixtures.js';

const at = (address: string | undefined) => routed({ resource: wiki, client: clientAt(address) });

describe('the network check', () => {
  it('when the resource lists no networks, then any client address passes', () => {
    expect(grafana.networks).toEqual([]);
    expect(networkCheck(routed({ client: clientAt('203.0.113.9') }))).toBeUndefined();
  });

  it.each(['10.20.30.40', '::ffff:10.0.0.1', '2001:db8::7'])(
    'when the client %s is in one of the networks, then it passes',
    (address) => {
      expect(networkCheck(at(address))).toBeUndefined();
    },
  );

  it('when the client is outside every network, then network_not_allowed (403) names the address and the networks', () => {
    const refused = networkCheck(at('192.0.2.1'));
    expect(refused).toEqual({
      code: 'network_not_allowed',
      message: 'Access to wiki is not allowed from 192.0.2.1.',
      hint: 'Connect from an allowed network (10.0.0.0/8, 2001:db8::/32), then retry.',
    });
    expect(statusFor(refused!.code)).toBe(403);
  });

  it('when a trusted proxy forwarded an address that cannot be read, then the client is unknown and refused', () => {
    const client = clientResolver(['127.0.0.0/8'])('127.0.0.1', 'not-an-address');
    const refused = networkCheck(routed({ resource: wiki, client }));
    expect(refused?.message).toBe('Access to wiki is not allowed from an unknown address.');
  });

  it('when no route check ran before it, then it refuses (internal_error)', () => {
    expect(networkCheck(attempt())?.code).toBe('internal_error');
  });
});
