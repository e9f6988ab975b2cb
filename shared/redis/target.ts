/**
 * Which Redis a deployment uses: one server (`REDIS_URL`), a Redis Cluster (`REDIS_CLUSTER_NODES`,
 * seed nodes) or a master watched by Sentinel (`REDIS_SENTINELS` + `REDIS_SENTINEL_MASTER`). With a
 * cluster or Sentinel, `REDIS_URL` still carries the password, the database and TLS (`rediss://`).
 */
export interface HostPort {
  host: string;
  port: number;
}

export type RedisTarget =
  | { kind: 'single'; url: string }
  | { kind: 'cluster'; nodes: HostPort[]; url: string }
  | { kind: 'sentinel'; sentinels: HostPort[]; master: string; url: string };

/** What `loadConfig` hands over about Redis. */
export interface RedisSettings {
  REDIS_URL: string;
  REDIS_CLUSTER_NODES?: HostPort[] | undefined;
  REDIS_SENTINELS?: HostPort[] | undefined;
  REDIS_SENTINEL_MASTER?: string | undefined;
}

/**
 * The Redis the configuration names. `loadConfig` has already refused a cluster beside Sentinel and
 * Sentinel without its master's name.
 *
 * @example connectRedis(redisTarget(loadConfig(process.env)))
 */
export function redisTarget(config: RedisSettings): RedisTarget {
  if (config.REDIS_CLUSTER_NODES?.length) {
    return { kind: 'cluster', nodes: config.REDIS_CLUSTER_NODES, url: config.REDIS_URL };
  }
  if (config.REDIS_SENTINELS?.length && config.REDIS_SENTINEL_MASTER) {
    return {
      kind: 'sentinel',
      sentinels: config.REDIS_SENTINELS,
      master: config.REDIS_SENTINEL_MASTER,
      url: config.REDIS_URL,
    };
  }
  return { kind: 'single', url: config.REDIS_URL };
}

/** The target for people and logs, without its password: `Redis Cluster via 10.0.0.1:6379,…`. */
export function describeRedis(target: RedisTarget): string {
  const list = (nodes: HostPort[]) => nodes.map(hostPort).join(',');
  switch (target.kind) {
    case 'single':
      return `Redis at ${withoutPassword(target.url)}`;
    case 'cluster':
      return `Redis Cluster via ${list(target.nodes)}`;
    case 'sentinel':
      return `Redis master "${target.master}" via the sentinels ${list(target.sentinels)}`;
  }
}

function hostPort({ host, port }: HostPort): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function withoutPassword(url: string): string {
  if (!URL.canParse(url) || !new URL(url).password) return url;
  const u = new URL(url);
  u.password = '***';
  return u.toString();
}

const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/**
 * Reads `host:port,host:port,…` (an IPv6 address in brackets: `[::1]:7000`). Answers the list, or
 * what is wrong with the first bad entry.
 */
export function parseHostPorts(text: string): { nodes: HostPort[] } | { problem: string } {
  const entries = text.split(',').map((s) => s.trim());
  if (entries.every((e) => e === '')) return { problem: 'is empty: list host:port pairs' };
  const nodes: HostPort[] = [];
  for (const entry of entries) {
    if (entry === '') return { problem: 'has an empty entry (two commas in a row, or one at an end)' };
    const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(entry);
    if (!m) return { problem: `has "${entry}", which is not host:port` };
    const host = (m[1] ?? m[2]) as string;
    const port = Number(m[3]);
    if (m[2] !== undefined && !HOST.test(host))
      return { problem: `has "${entry}": ${host} is not a host name` };
    if (port < 1 || port > 65535) return { problem: `has "${entry}": the port must be 1 to 65535` };
    if (nodes.some((n) => n.host === host && n.port === port)) return { problem: `names ${entry} twice` };
    nodes.push({ host, port });
  }
  return { nodes };
}

/**
 * Problems between the Redis variables (each already well-formed on its own): a cluster and Sentinel
 * at once, Sentinel without the master's name or the other way round, a database other than 0 on a
 * cluster (Redis Cluster has only database 0).
 */
export function redisSettingsProblems(env: Record<string, string>): { name: string; message: string }[] {
  const problems: { name: string; message: string }[] = [];
  const cluster = Boolean(env.REDIS_CLUSTER_NODES);
  const sentinels = Boolean(env.REDIS_SENTINELS);
  if (cluster && sentinels) {
    problems.push({
      name: 'REDIS_SENTINELS',
      message:
        'set beside REDIS_CLUSTER_NODES; jitgate uses one Redis: a cluster (REDIS_CLUSTER_NODES) or a master watched by Sentinel (REDIS_SENTINELS with REDIS_SENTINEL_MASTER), so unset one of them',
    });
  }
  if (sentinels && !env.REDIS_SENTINEL_MASTER) {
    problems.push({
      name: 'REDIS_SENTINEL_MASTER',
      message:
        'not set, but REDIS_SENTINELS is (the name the sentinels know the master by, as in `sentinel monitor <name> …`)',
    });
  }
  if (!sentinels && env.REDIS_SENTINEL_MASTER) {
    problems.push({
      name: 'REDIS_SENTINELS',
      message: 'not set, but REDIS_SENTINEL_MASTER is (list the sentinels as host:port,host:port)',
    });
  }
  const url = env.REDIS_URL;
  if (cluster && url && URL.canParse(url)) {
    const db = new URL(url).pathname.replace(/^\/+/, '');
    if (db !== '' && db !== '0') {
      problems.push({
        name: 'REDIS_URL',
        message: `selects database ${db}, but a Redis Cluster has only database 0 (drop the /${db}; JITGATE_REDIS_PREFIX keeps deployments apart)`,
      });
    }
  }
  return problems;
}

/** The password, user name, database and TLS that `REDIS_URL` carries, for a cluster or Sentinel. */
export function urlCredentials(url: string): {
  username?: string;
  password?: string;
  db?: number;
  tls?: Record<string, never>;
} {
  const u = new URL(url);
  const db = Number(u.pathname.replace(/^\/+/, '') || '0');
  return {
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db ? { db } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}
