import type { Resource } from '../../shared/policy/index.js';

/**
 * Where people reach a resource: the authorizer's public URL (JITGATE_PUBLIC_URL), with a host
 * resource's own host in it. This, never a request's Host header, is what the upstream is told in
 * X-Forwarded-Host and what its redirects to its internal address are rewritten to.
 */
export interface PublicAddress {
  /** `https:` or `http:`, from the public URL. */
  protocol: string;
  /** Host and port as people type them: `grafana.access.example.com`, `access.example.com:8443`. */
  host: string;
  /** A pathPrefix resource's prefix (`/grafana`); undefined for a host resource. */
  prefix: string | undefined;
  /** The URL the upstream's `/` is reached at, without a trailing slash: `https://access.example.com/grafana`. */
  base: string;
}

/**
 * The public address of each resource, computed once per resource object (a policy reload makes new
 * ones).
 *
 * @example publicAddresses('https://access.example.com')(grafana).base // 'https://access.example.com/grafana'
 */
export function publicAddresses(publicUrl: string): (resource: Resource) => PublicAddress {
  const url = new URL(publicUrl);
  const port = url.port ? `:${url.port}` : '';
  const cache = new WeakMap<Resource, PublicAddress>();
  return (resource) => {
    let address = cache.get(resource);
    if (address === undefined) {
      const prefix = 'pathPrefix' in resource.match ? resource.match.pathPrefix : undefined;
      const host = 'host' in resource.match ? `${resource.match.host.toLowerCase()}${port}` : url.host;
      address = { protocol: url.protocol, host, prefix, base: `${url.protocol}//${host}${prefix ?? ''}` };
      cache.set(resource, address);
    }
    return address;
  };
}
