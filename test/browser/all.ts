// `npm run test:browser` (`node test/browser/all.ts [--stand-in]`): the range-reader suite (run.ts, given the arguments) and then the console suite (console.ts), each in its own process; exits 1 if either fails.

import { spawnSync } from 'node:child_process';
import path from 'node:path';

const suites = [['run.ts', ...process.argv.slice(2)], ['console.ts']];
let failed = 0;
for (const [file, ...args] of suites) {
  console.log(`\n=== ${file} ${args.join(' ')}`.trimEnd());
  const { status } = spawnSync(process.execPath, [path.join(import.meta.dirname, file), ...args], { stdio: 'inherit' });
  if (status !== 0) failed++;
}
process.exitCode = failed === 0 ? 0 : 1;
