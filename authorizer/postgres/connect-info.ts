import type { Resource } from '../../shared/policy/index.js';

/** Where people reach the PostgreSQL gateway: the public host, the gateway's port, and whether TLS is on. */
export interface GatewayAddress {
  host: string;
  port: number;
  tls: boolean;
}

/** What a client needs to connect to a postgres resource through the gateway (the token is the password). */
export interface PostgresConnection {
  host: string;
  port: number;
  dbname: string;
  sslmode: 'require' | 'disable';
  /** A libpq connection string without the password: `psql "<this>"` with PGPASSWORD set to the token. */
  psql: string;
}

/**
 * The connection details of a postgres resource, for the redeem JSON, the command-line page and
 * `npm run psql`. The user name is informational to the gateway; `jitgate` is as good as any.
 *
 * @example postgresConnection(prodDb, { host: 'access.example.com', port: 6432, tls: true }).psql
 *   // 'host=access.example.com port=6432 dbname=prod-db user=jitgate sslmode=require'
 */
export function postgresConnection(resource: Resource, at: GatewayAddress): PostgresConnection {
  const sslmode = at.tls ? 'require' : 'disable';
  return {
    host: at.host,
    port: at.port,
    dbname: resource.name,
    sslmode,
    psql: `host=${at.host} port=${at.port} dbname=${resource.name} user=jitgate sslmode=${sslmode}`,
  };
}
