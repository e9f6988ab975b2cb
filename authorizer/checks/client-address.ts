import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;
type Range = [Address, number];

/** Parses an address; IPv4-mapped IPv6 (`::ffff:10.0.0.1`) becomes plain IPv4. Undefined when invalid. */
export function parseAddress(text: string | undefined): Address | undefined {
  if (!text) return undefined;
  let s = text.trim();
  // `[::1]:443` and `10.0.0.1:443` as some proxies write them.
  if (s.startsWith('[')) s = s.slice(1, s.indexOf(']') === -1 ? undefined : s.indexOf(']'));
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(s)) s = s.slice(0, s.indexOf(':'));
  if (!ipaddr.isValid(s)) return undefined;
  return ipaddr.process(s);
}

function parseRange(cidr: string): Range {
  if (cidr.includes('/')) {
    const [addr, bits] = ipaddr.parseCIDR(cidr);
    // A mapped IPv6 range (`::ffff:10.0.0.0/104`) is the IPv4 range it maps.
    if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress() && bits >= 96) {
      return [(addr as ipaddr.IPv6).toIPv4Address(), bits - 96];
    }
    return [addr, bits];
  }
  const addr = ipaddr.process(cidr);
  return [addr, addr.kind() === 'ipv4' ? 32 : 128];
}

/** True when `addr` lies in one of the ranges; addresses and ranges of the other family never match. */
function inRanges(ranges: readonly Range[], addr: Address): boolean {
  for (const range of ranges) {
    if (range[0].kind() === addr.kind() && addr.match(range)) return true;
  }
  return false;
}

const compiledNetworks = new WeakMap<readonly string[], Range[]>();

/**
 * Whether a client address is in a resource's `networks`. The list is compiled once per policy
 * object. An unknown address (undefined) is never allowed; an empty list allows everyone.
 */
export function networkAllows(networks: readonly string[], addr: Address | undefined): boolean {
  if (networks.length === 0) return true;
  if (!addr) return false;
  let ranges = compiledNetworks.get(networks);
  if (!ranges) {
    ranges = [];
    // The policy schema validates CIDRs; one it let through but ipaddr.js rejects matches nothing.
    for (const n of networks) {
      try {
        ranges.push(parseRange(n));
      } catch {}
    }
    compiledNetworks.set(networks, ranges);
  }
  return inRanges(ranges, addr);
}

/** Who sent a request: the client as best we can tell, and the socket peer that delivered it. */
export interface ClientInfo {
  client: Address | undefined;
  /** The socket peer, normalised (`::ffff:127.0.0.1` → `127.0.0.1`). */
  peer: string;
  /** The peer is one of JITGATE_TRUSTED_PROXIES, so its X-Forwarded-* headers are believed. */
  peerTrusted: boolean;
}

/**
 * Resolves the client address. Without trusted proxies it is the socket address. When the socket
 * peer is a trusted proxy, X-Forwarded-For is read from the right, skipping trusted proxies: the
 * first untrusted entry is the client (entries to its left were written by the client and prove
 * nothing). An unparseable entry makes the client unknown, which no allow-list admits.
 *
 * @example const resolve = clientResolver(['10.0.0.0/8']); resolve('10.0.0.2', '203.0.113.9, 10.0.0.7')
 */
export function clientResolver(trustedProxies: readonly string[]) {
  const trusted = trustedProxies.map((cidr) => {
    try {
      return parseRange(cidr);
    } catch {
      throw new Error(`JITGATE_TRUSTED_PROXIES: ${cidr} is not an IP address or CIDR (e.g. 10.0.0.0/8)`);
    }
  });
  /** Socket peers seen lately, parsed and judged once (a client keeps its address for many requests). */
  const peers = new Map<string, { addr: Address | undefined; peer: string; trusted: boolean }>();
  function peerOf(socketAddress: string | undefined) {
    const known = socketAddress === undefined ? undefined : peers.get(socketAddress);
    if (known) return known;
    const addr = parseAddress(socketAddress);
    const judged = {
      addr,
      peer: addr ? addr.toString() : (socketAddress ?? ''),
      trusted: addr !== undefined && trusted.length > 0 && inRanges(trusted, addr),
    };
    if (socketAddress !== undefined) {
      if (peers.size >= 4096) peers.clear();
      peers.set(socketAddress, judged);
    }
    return judged;
  }
  return function resolve(socketAddress: string | undefined, xff: string | undefined): ClientInfo {
    const { addr: peerAddr, peer, trusted: peerTrusted } = peerOf(socketAddress);
    if (!peerTrusted || !xff) return { client: peerAddr, peer, peerTrusted };
    const hops = xff.split(',');
    let client: Address | undefined = peerAddr;
    for (let i = hops.length - 1; i >= 0; i -= 1) {
      const hop = parseAddress(hops[i]);
      if (!hop) return { client: undefined, peer, peerTrusted };
      client = hop;
      if (!inRanges(trusted, hop)) break;
    }
    return { client, peer, peerTrusted };
  };
}

export type ClientResolver = ReturnType<typeof clientResolver>;
