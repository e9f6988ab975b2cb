import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, posix, relative } from 'node:path';

/**
 * The Dockerfile played without a Docker engine: each stage is a folder standing for its WORKDIR,
 * COPY copies from the build context (less what .dockerignore excludes) or from an earlier stage,
 * and RUN runs in the stage's folder. Only what the Dockerfile copies is there, so a build that
 * needs a file the image does not get fails here as it would in `docker build`.
 */

export interface Instruction {
  op: string;
  args: string;
  line: number;
}

export interface Stage {
  name: string;
  base: string;
  instructions: Instruction[];
}

/** The stages of a Dockerfile, in order (continuation lines joined, comments dropped). */
export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i + 1;
    let line = lines[i]!.trim();
    while (line.endsWith('\\') && i + 1 < lines.length) line = `${line.slice(0, -1)} ${lines[++i]!.trim()}`;
    if (line === '' || line.startsWith('#')) continue;
    const [op = '', ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    if (op.toUpperCase() === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!m) throw new Error(`Dockerfile line ${start}: cannot read FROM ${args}`);
      stages.push({ name: m[2] ?? String(stages.length), base: m[1]!, instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`Dockerfile line ${start}: ${op} before FROM`);
    stage.instructions.push({ op: op.toUpperCase(), args, line: start });
  }
  return stages;
}

/** A .dockerignore as a predicate over context-relative paths (`*`, `**`, `?`; no `!` exceptions). */
export function dockerignore(text: string): (path: string) => boolean {
  const patterns = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((p) => {
      if (p.startsWith('!')) throw new Error(`.dockerignore exceptions (${p}) are not supported here`);
      const body = posix
        .normalize(p.replace(/^\/+/, ''))
        .split('')
        .map((c) => (c === '*' ? '[^/]*' : c === '?' ? '[^/]' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
        .join('')
        .replaceAll('[^/]*[^/]*', '.*');
      return new RegExp(`^${body}$`);
    });
  return (path) => {
    // A path is excluded when it or any folder above it matches, as Docker does.
    const parts = path.split('/');
    for (let n = 1; n <= parts.length; n++) {
      const prefix = parts.slice(0, n).join('/');
      if (patterns.some((re) => re.test(prefix))) return true;
    }
    return false;
  };
}

export interface PlayOptions {
  /** The build context (the repository). */
  context: string;
  /** Where each stage's folder is made (one sub-folder per stage). */
  workRoot: string;
  /** The environment RUN commands start from (the stage's ENV is added). */
  env: Record<string, string>;
  /** Rewrites a RUN command before it runs (e.g. to add --prefer-offline to npm ci). */
  rewriteRun?: (command: string) => string;
  /** Output of the RUN commands (default: inherited). */
  log?: (line: string) => void;
}

export interface PlayedStage {
  name: string;
  dir: string;
  env: Record<string, string>;
  /** The WORKDIR the folder stands for. */
  workdir: string;
  /** The CMD, in exec form. */
  cmd: string[] | undefined;
}

/** Plays every stage in order; answers them by name (the last one is the image). */
export function playDockerfile(stages: Stage[], options: PlayOptions): PlayedStage[] {
  const ignored = existsSync(join(options.context, '.dockerignore'))
    ? dockerignore(readFileSync(join(options.context, '.dockerignore'), 'utf8'))
    : () => false;
  const played: PlayedStage[] = [];
  for (const [index, stage] of stages.entries()) {
    const dir = join(options.workRoot, `stage-${index}-${stage.name}`);
    mkdirSync(dir, { recursive: true });
    const state: PlayedStage = { name: stage.name, dir, env: {}, workdir: '/', cmd: undefined };
    let workdir = '/';
    // A stage's folder stands for its WORKDIR; nothing in this Dockerfile reaches outside it.
    const inStage = (path: string, base: string, root: string) => {
      const inside = relative(root, posix.resolve(root, path));
      if (inside.startsWith('..'))
        throw new Error(`${path} is outside ${root}, which this check cannot play`);
      return join(base, inside);
    };
    for (const ins of stage.instructions) {
      const where = `Dockerfile line ${ins.line}`;
      switch (ins.op) {
        case 'WORKDIR':
          workdir = posix.resolve(workdir, ins.args);
          state.workdir = workdir;
          break;
        case 'ENV': {
          const m = /^(\w+)=(.*)$/.exec(ins.args);
          if (!m) throw new Error(`${where}: only ENV NAME=value is supported`);
          state.env[m[1]!] = m[2]!;
          break;
        }
        case 'COPY': {
          const words = ins.args.split(/\s+/);
          const from = words[0]?.startsWith('--from=') ? words.shift()!.slice('--from='.length) : undefined;
          if (words.some((w) => w.startsWith('--'))) throw new Error(`${where}: unsupported COPY flag`);
          const dest = words.pop()!;
          const target = inStage(dest, dir, workdir);
          const intoFolder = dest.endsWith('/') || words.length > 1;
          if (intoFolder) mkdirSync(target, { recursive: true });
          for (const src of words) {
            if (from) {
              const source = played.find((s) => s.name === from);
              if (!source) throw new Error(`${where}: no stage named ${from}`);
              copy(inStage(src, source.dir, source.workdir), target, intoFolder, () => false, '');
            } else {
              const rel = posix.normalize(src);
              if (ignored(rel)) throw new Error(`${where}: ${src} is excluded by .dockerignore`);
              copy(join(options.context, rel), target, intoFolder, ignored, rel);
            }
          }
          break;
        }
        case 'RUN': {
          const command = options.rewriteRun ? options.rewriteRun(ins.args) : ins.args;
          options.log?.(`[${stage.name}] RUN ${command}`);
          try {
            execFileSync('sh', ['-c', command], {
              cwd: inStage(workdir, dir, workdir),
              env: { ...options.env, ...state.env },
              stdio: ['ignore', 'pipe', 'pipe'],
              maxBuffer: 64 * 1024 * 1024,
            });
          } catch (err) {
            const e = err as { stdout?: Buffer; stderr?: Buffer };
            throw new Error(
              `${where}: RUN ${command} failed:\n${String(e.stdout ?? '')}${String(e.stderr ?? '')}`.slice(
                0,
                8000,
              ),
            );
          }
          break;
        }
        case 'CMD':
          state.cmd = JSON.parse(ins.args) as string[];
          break;
        case 'USER':
        case 'EXPOSE':
        case 'LABEL':
          break;
        default:
          throw new Error(`${where}: ${ins.op} is not supported by this check`);
      }
    }
    played.push(state);
  }
  return played;
}

/**
 * COPY semantics: a file into a folder (dest ending in `/`, or several sources) keeps its name; a
 * folder's contents go into the destination. What .dockerignore excludes is left out, at any depth.
 */
function copy(
  src: string,
  target: string,
  intoFolder: boolean,
  ignored: (path: string) => boolean,
  rel: string,
) {
  if (!existsSync(src)) throw new Error(`COPY: ${src} does not exist`);
  if (statSync(src).isDirectory()) copyTree(src, target, ignored, rel);
  else cpSync(src, intoFolder ? join(target, basename(src)) : target, { dereference: true });
}

function copyTree(src: string, target: string, ignored: (path: string) => boolean, rel: string): void {
  if (!statSync(src).isDirectory()) {
    cpSync(src, target, { dereference: true });
    return;
  }
  mkdirSync(target, { recursive: true });
  for (const entry of readdirSync(src)) {
    const childRel = rel === '' ? entry : `${rel}/${entry}`;
    if (ignored(childRel)) continue;
    copyTree(join(src, entry), join(target, entry), ignored, childRel);
  }
}
