/**
 * Where the time goes in a V8 CPU profile (`node --cpu-prof`, or `npm run bench -- --profile`):
 * self time by function and by package, and total (inclusive) time of our own functions.
 *
 * @example npx tsx bench/profile-summary.ts bench/profiles/target/CPU.…cpuprofile [--top 30] [--filter authorizer/]
 *   [--from <µs> --for-ms 500]   (only the samples in that window, e.g. a Slack burst from results.json)
 *   [--skip-ms 3000]             (leave out start-up and warm-up)
 *   [--breakdown bench/results.json]  (µs per request by part of the work, for each proxy run of a
 *                                      `--profile` run: bare proxy against jitgate, same process)
 */
import { readFile } from 'node:fs/promises';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const [file, ...rest] = process.argv.slice(2);
if (!file) {
  console.error('usage: tsx bench/profile-summary.ts <file.cpuprofile> [--top N] [--filter text]');
  process.exit(2);
}
const top = Number(rest[rest.indexOf('--top') + 1]) || 25;
const filter = rest.includes('--filter') ? rest[rest.indexOf('--filter') + 1] : undefined;
// A time window on the profile's own clock (µs), e.g. a burst's start from results.json and a length.
const from = rest.includes('--from') ? Number(rest[rest.indexOf('--from') + 1]) : undefined;
const forUs = rest.includes('--for-ms') ? Number(rest[rest.indexOf('--for-ms') + 1]) * 1000 : undefined;
// Or skip the start (process start-up, module loading, warm-up).
const skipUs = rest.includes('--skip-ms') ? Number(rest[rest.indexOf('--skip-ms') + 1]) * 1000 : 0;

const profile = JSON.parse(await readFile(file, 'utf8')) as Profile;
const breakdownOf = rest.includes('--breakdown') ? rest[rest.indexOf('--breakdown') + 1] : undefined;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

// Time per sample: the delta that follows it.
const selfUs = new Map<number, number>();
let t = profile.startTime;
profile.samples.forEach((id, i) => {
  t += profile.timeDeltas[i] ?? 0;
  if (from !== undefined && (t < from || (forUs !== undefined && t > from + forUs))) return;
  if (t < profile.startTime + skipUs) return;
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
});
const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);

const place = (f: CallFrame) => {
  const url = f.url.replace(/^file:\/\//, '').replace(process.cwd() + '/', '');
  return `${f.functionName || '(anonymous)'} ${url ? `${url}:${f.lineNumber + 1}` : ''}`.trim();
};
const packageOf = (f: CallFrame): string => {
  const url = f.url.replace(/^file:\/\//, '');
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1]!;
  if (url.startsWith('node:') || url === '')
    return f.functionName.startsWith('(') ? f.functionName : 'node internals';
  return url.replace(process.cwd() + '/', '').split('/')[0] ?? url;
};

const self = new Map<string, number>();
const pkgs = new Map<string, number>();
const inclusive = new Map<string, number>();
for (const [id, us] of selfUs) {
  const node = byId.get(id)!;
  const key = place(node.callFrame);
  self.set(key, (self.get(key) ?? 0) + us);
  const pkg = packageOf(node.callFrame);
  pkgs.set(pkg, (pkgs.get(pkg) ?? 0) + us);
  // Inclusive: every distinct frame on the stack gets this sample's time once.
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const k = place(byId.get(cur)!.callFrame);
    if (!seen.has(k)) {
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + us);
    }
  }
}

const show = (title: string, m: Map<string, number>, keep: (k: string) => boolean = () => true) => {
  console.log(`\n${title}`);
  [...m]
    .filter(([k]) => keep(k))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .forEach(([k, us]) => {
      console.log(
        `${((us / totalUs) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`,
      );
    });
};

if (breakdownOf) {
  await breakdown(breakdownOf);
  process.exit(0);
}
console.log(`${file}: ${(totalUs / 1000).toFixed(0)} ms sampled`);
show('Self time by package', pkgs);
show('Self time by function', self, filter ? (k) => k.includes(filter) : undefined);
show('Inclusive time, our code', inclusive, (k) =>
  filter ? k.includes(filter) : /(authorizer|shared|bot)\//.test(k) && !k.includes('node_modules'),
);

/**
 * Each sample is put in the first part of the work found walking up its stack from the leaf (a
 * socket write under ioredis is Redis's, one under pino is the log's), or "node core" when none
 * matches; the time of each run's window is divided by the requests of that run.
 */
async function breakdown(resultsFile: string): Promise<void> {
  const results = JSON.parse(await readFile(resultsFile, 'utf8')) as {
    proxy?: { profileWindows?: { variant: string; fromUs: number; toUs: number; requests: number }[] };
  };
  const windows = results.proxy?.profileWindows;
  if (!windows)
    throw new Error(`${resultsFile} has no profile windows: run npm run bench -- --only proxy --profile`);
  const parts: [string, RegExp][] = [
    ['Redis check (ioredis, liveGrant)', /ioredis|grants\/(queries|records|guard)|grants\/lua\/run/],
    ['access log (pino, its write)', /pino|sonic-boom|redact|node:fs$/],
    ['metrics (prom-client)', /prom-client/],
    ['access-log middleware', /authorizer\/routes\/middleware/],
    [
      'access checks (route, credential, token, grant, role, network)',
      /authorizer\/checks|shared\/policy|shared\/tokens\/verifier|ipaddr/,
    ],
    [
      'gate: identity headers, assertion, usage',
      /authorizer\/(gate|proxy\/headers|usage)|shared\/tokens\/assertion/,
    ],
    ['http-proxy(-middleware)', /http-proxy/],
    ['Express + router', /node_modules\/(express|router|parseurl|finalhandler)/],
  ];
  const partOf = (id: number): string => {
    const name = byId.get(id)!.callFrame.functionName;
    if (name === '(idle)') return 'idle';
    if (name === '(garbage collector)') return 'garbage collector';
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const url = byId.get(cur)!.callFrame.url;
      for (const [part, re] of parts) if (re.test(url)) return part;
    }
    return 'node core (http, net, streams, timers)';
  };
  const byVariant = new Map<string, { us: Map<string, number>; requests: number }>();
  for (const w of windows) {
    const v = byVariant.get(w.variant) ?? { us: new Map(), requests: 0 };
    byVariant.set(w.variant, v);
    v.requests += w.requests;
    let t = profile.startTime;
    profile.samples.forEach((id, i) => {
      t += profile.timeDeltas[i] ?? 0;
      if (t < w.fromUs || t > w.toUs) return;
      const part = partOf(id);
      v.us.set(part, (v.us.get(part) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
    });
  }
  const variants = [...byVariant.keys()];
  const names = [...new Set([...byVariant.values()].flatMap((v) => [...v.us.keys()]))].filter(
    (k) => k !== 'idle',
  );
  const per = (variant: string, part: string) => {
    const v = byVariant.get(variant)!;
    return (v.us.get(part) ?? 0) / v.requests;
  };
  const last = variants.at(-1)!;
  names.sort((a, b) => per(last, b) - per(last, a));
  console.log(`| µs of CPU per request | ${variants.join(' | ')} |`);
  console.log(`| --- | ${variants.map(() => '---:').join(' | ')} |`);
  for (const part of names)
    console.log(`| ${part} | ${variants.map((v) => per(v, part).toFixed(0)).join(' | ')} |`);
  const total = (variant: string) => names.reduce((a, part) => a + per(variant, part), 0);
  console.log(`| **total** | ${variants.map((v) => `**${total(v).toFixed(0)}**`).join(' | ')} |`);
}
