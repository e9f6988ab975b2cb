// Part of `npm run build`: tsc emits only JavaScript, so the Lua scripts that shared/ reads at load
// time are copied beside the compiled modules (shared/grants/lua/*.lua → dist/shared/grants/lua/).
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

const from = 'shared';
const to = join('dist', 'shared');
let copied = 0;
for (const file of readdirSync(from, { recursive: true, encoding: 'utf8' })) {
  if (!file.endsWith('.lua')) continue;
  mkdirSync(dirname(join(to, file)), { recursive: true });
  copyFileSync(join(from, file), join(to, file));
  copied += 1;
}
if (copied === 0)
  throw new Error(`no .lua files found under ${from}/: run the build from the repository root`);
console.log(`copied ${copied} Lua files to ${to}/`);
