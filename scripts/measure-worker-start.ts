// How long a fresh isolate spends evaluating the Worker module before its first answer: bundles the Worker
// exactly as `wrangler deploy` does (--dry-run), then times importing it in fresh Node processes (the same V8).
//
//   node scripts/measure-worker-start.ts [--runs 9] [--dir <a checkout>]
//
// Prints the bundle size and the median, minimum and maximum evaluation time. The module's imports of the
// SQLite wasm, the DO migrations and `cloudflare:workers` are replaced by stubs: they cost workerd nothing to
// evaluate (the wasm is compiled at upload) and Node cannot load them.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_DIR } from './lib/wrangler-dev.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '9' }, dir: { type: 'string', default: REPO_DIR } } });
const out = mkdtempSync(path.join(tmpdir(), 'ltx-edge-start-'));
try {
  execFileSync('npx', ['wrangler', 'deploy', '--dry-run', '--outdir', out], {
    cwd: values.dir,
    stdio: 'ignore',
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' },
  });
  const bundle = path.join(out, 'index.js');
  const stubbed = readFileSync(bundle, 'utf8')
    .replace(/^import (\w+) from "\.\/[^"]+\.(?:wasm|sql)";$/gm, 'const $1 = "";')
    .replace(
      /^import \{ DurableObject(?: as (\w+))? \} from "cloudflare:workers";$/gm,
      (_, alias) => `class ${alias ?? 'DurableObject'} {}`,
    );
  const module = path.join(out, 'worker.mjs');
  writeFileSync(module, stubbed);
  const timer = `const t = performance.now(); await import(${JSON.stringify(module)}); console.log(performance.now() - t);`;
  const times: number[] = [];
  for (let i = 0; i < Number(values.runs); i++) {
    times.push(Number(execFileSync(process.execPath, ['--input-type=module', '-e', timer], { encoding: 'utf8' })));
  }
  times.sort((a, b) => a - b);
  const ms = (n: number) => n.toFixed(1);
  console.log(`Worker module: ${(statSync(bundle).size / 1e6).toFixed(2)} MB (without the wasm)`);
  console.log(
    `evaluation in a fresh process, ${times.length} runs: median ${ms(times[times.length >> 1])} ms, min ${ms(times[0])}, max ${ms(times.at(-1)!)}`,
  );
} finally {
  rmSync(out, { recursive: true, force: true });
}
