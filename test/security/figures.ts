import { appendFileSync, readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll } from 'vitest';

/**
 * The figures the security and fault suites end with: attack cases tried and refused, faults
 * survived, property runs. Each file calls `countFigures(kind)` once at its top; when the file is
 * done it prints its own line and the running total of this `vitest` run (files run in worker
 * processes, so the total is kept in a small file named after the parent process). The last such
 * line printed is the total of the whole run.
 *
 * A case counts as refused (or a fault as survived) when its test passed: the tests assert the
 * refusal, and that the servers still answer afterwards.
 */
export type FigureKind = 'attack' | 'fault';

interface FileFigures {
  file: string;
  kind: FigureKind;
  tried: number;
  held: number;
  runs: number;
}

let propertyRuns = 0;

/** Counts `n` generated inputs of a property test towards the figures. */
export function fuzzRuns(n: number): number {
  propertyRuns += n;
  return n;
}

const ledger = join(tmpdir(), `jitgate-security-figures-${process.ppid}.jsonl`);

export function countFigures(kind: FigureKind): void {
  // Files share this module when a worker runs several of them (isolate: false): count from here.
  const runsBefore = propertyRuns;
  // The suite comes second; vitest insists that the first parameter be a destructuring pattern.
  // biome-ignore lint/correctness/noEmptyPattern: nothing is taken from the context
  afterAll(({}, suite) => {
    let tried = 0;
    let held = 0;
    const visit = (task: unknown) => {
      const t = task as { type?: string; tasks?: unknown[]; mode?: string; result?: { state?: string } };
      if (t.type === 'test') {
        if (t.mode === 'skip' || t.mode === 'todo') return;
        tried += 1;
        if (t.result?.state === 'pass') held += 1;
      }
      for (const child of t.tasks ?? []) visit(child);
    };
    visit(suite);
    const name = basename((suite as { filepath?: string }).filepath ?? suite.name);
    const mine: FileFigures = { file: name, kind, tried, held, runs: propertyRuns - runsBefore };
    try {
      sweepOldLedgers();
      appendFileSync(ledger, `${JSON.stringify(mine)}\n`);
      const all = readFileSync(ledger, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as FileFigures);
      console.log(`${describeFile(mine)}\n${describeTotal(all)}`);
    } catch {
      console.log(describeFile(mine));
    }
  });
}

function describeFile(f: FileFigures): string {
  const what =
    f.kind === 'attack'
      ? `${f.tried} attack cases tried, ${f.held} refused`
      : `${f.tried} faults injected, ${f.held} survived`;
  return `[jitgate figures] ${f.file}: ${what}${f.runs > 0 ? `, ${f.runs} generated inputs` : ''}`;
}

function describeTotal(all: FileFigures[]): string {
  const sum = (kind: FigureKind, key: 'tried' | 'held' | 'runs') =>
    all.filter((f) => f.kind === kind).reduce((n, f) => n + f[key], 0);
  const runs = sum('attack', 'runs') + sum('fault', 'runs');
  return (
    `[jitgate figures] so far in this run (${all.length} files): ` +
    `${sum('attack', 'tried')} attack cases tried, ${sum('attack', 'held')} refused; ` +
    `${sum('fault', 'tried')} faults injected, ${sum('fault', 'held')} survived; ` +
    `${runs} fuzz inputs`
  );
}

/** Ledgers of runs that ended more than a day ago. */
function sweepOldLedgers(): void {
  const dayAgo = Date.now() - 86_400_000;
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith('jitgate-security-figures-')) continue;
    const path = join(tmpdir(), name);
    try {
      if (statSync(path).mtimeMs < dayAgo) unlinkSync(path);
    } catch {
      // Another worker swept it first.
    }
  }
}
