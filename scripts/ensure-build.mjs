// Runs before `npm start` and `npm run start:*` (their pre-scripts): production runs the compiled
// JavaScript in dist/, so dist/ is built first when it is missing or older than a source file. In
// the image there are no sources (only dist/), and nothing is done.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const SOURCE_DIRS = ['shared', 'bot', 'authorizer', 'system', 'scripts', 'dev'];
const SOURCE_FILES = ['package.json', 'tsconfig.json', 'tsconfig.build.json'];
const BUILT = join('dist', 'scripts', 'start.js');

/** The newest modification time of the sources dist/ is built from (0 when there are none). */
function newestSource() {
  let newest = 0;
  for (const dir of SOURCE_DIRS) {
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
      if (/\.(ts|lua)$/.test(file) && !file.endsWith('.d.ts'))
        newest = Math.max(newest, statSync(join(dir, file)).mtimeMs);
    }
  }
  // No TypeScript here (the image holds dist/ and package.json only): nothing to build from.
  if (newest === 0) return 0;
  for (const file of SOURCE_FILES) if (existsSync(file)) newest = Math.max(newest, statSync(file).mtimeMs);
  return newest;
}

const sources = newestSource();
if (sources > 0) {
  const built = existsSync(BUILT) ? statSync(BUILT).mtimeMs : 0;
  if (built < sources) {
    console.error(
      `jitgate: ${built === 0 ? 'dist/ is not built yet' : 'a source is newer than dist/'}; building it (npm run build) …`,
    );
    const build = spawnSync('npm', ['run', '-s', 'build'], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (build.status !== 0) {
      console.error(
        'jitgate: npm run build failed (above); fix it, or use npm run dev to run the sources with tsx',
      );
      process.exit(build.status ?? 1);
    }
  }
}
