// Benchmark entry: `node bench/run.ts [suite...|all] [--quick] [--write]` (or `npm run bench -- ...`).

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { DEFAULT_OPTIONS, QUICK_OPTIONS, SMOKE_OPTIONS, type Suite, renderSections } from './harness.ts';

/** Suites in run order. Adding one is one line here plus its bench/<name>.ts exporting `suite`. */
const SUITES: Record<string, () => Promise<{ suite: Suite }>> = {
  codec: () => import('./codec.ts'),
  ingest: () => import('./ingest.ts'),
  read: () => import('./read.ts'),
  compact: () => import('./compact.ts'),
  query: () => import('./query.ts'),
  agent: () => import('./agent.ts'),
  range: () => import('./range.ts'),
  'client-hydrate': () => import('./client-hydrate.ts'),
  scale: () => import('./scale.ts'),
};

const ROOT = join(import.meta.dirname, '..');
const BENCHMARKS_MD = join(ROOT, 'BENCHMARKS.md');

function usage(): string {
  return [
    'usage: node bench/run.ts [suite...|all] [--quick | --smoke] [--wall] [--write]',
    '       npm run bench -- [suite...|all] [--quick | --smoke] [--wall] [--write]',
    '',
    `suites: ${Object.keys(SUITES).join(', ')} (all, or none given, runs every suite)`,
    '  --quick   200 ms per measurement instead of 1000 ms (still at least 5 samples)',
    '  --smoke   the smallest inputs and one sample: every step runs, no number means anything (CI; not with --write)',
    '  --wall    time by the wall clock instead of process CPU time',
    "  --write   rewrite each suite's section of BENCHMARKS.md with this run's numbers",
  ].join('\n');
}

function machine(): string {
  const cpus = os.cpus();
  return `${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} cores, Node ${process.version}, ${os.platform()} ${os.arch()}`;
}

/** Which code was measured: the commit, whether src/ had uncommitted changes, and a hash of src/ltx. */
function codeVersion(): string {
  const dir = join(ROOT, 'src', 'ltx');
  const h = createHash('sha256');
  for (const f of readdirSync(dir).sort()) h.update(f).update(readFileSync(join(dir, f)));
  const fingerprint = `src/ltx fingerprint ${h.digest('hex').slice(0, 8)}`;
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = git('status', '--porcelain', '--', 'src') !== '';
    return `${git('rev-parse', '--short', 'HEAD')}${dirty ? ' + uncommitted changes in src/' : ''}, ${fingerprint}`;
  } catch {
    return fingerprint;
  }
}

/** The command as the user typed it (npm sets npm_lifecycle_event when run through `npm run`). */
function commandLine(args: string[]): string {
  return process.env.npm_lifecycle_event === 'bench'
    ? `npm run bench -- ${args.join(' ')}`.trimEnd()
    : `node bench/run.ts ${args.join(' ')}`.trimEnd();
}

/** Replaces the text between `<!-- bench:name -->` and `<!-- /bench:name -->`, or appends the block. */
function writeSection(name: string, body: string): void {
  const open = `<!-- bench:${name} -->`;
  const close = `<!-- /bench:${name} -->`;
  const block = `${open}\n${body}\n${close}`;
  let md = existsSync(BENCHMARKS_MD) ? readFileSync(BENCHMARKS_MD, 'utf8') : '# Benchmarks\n';
  const a = md.indexOf(open);
  const b = md.indexOf(close);
  if (a >= 0 && b > a) {
    md = md.slice(0, a) + block + md.slice(b + close.length);
  } else {
    md = `${md.trimEnd()}\n\n${block}\n`;
  }
  writeFileSync(BENCHMARKS_MD, md);
}

async function main(argv: string[]): Promise<number> {
  const flags = new Set(argv.filter((a) => a.startsWith('-')));
  const names = argv.filter((a) => !a.startsWith('-'));
  for (const f of flags) {
    if (f === '--help' || f === '-h') {
      console.log(usage());
      return 0;
    }
    if (f !== '--quick' && f !== '--smoke' && f !== '--write' && f !== '--wall') {
      console.error(`unknown option ${f}\n\n${usage()}`);
      return 2;
    }
  }
  const unknown = names.filter((n) => n !== 'all' && !(n in SUITES));
  if (unknown.length) {
    console.error(`unknown suite${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}\n\n${usage()}`);
    return 2;
  }
  const selected = names.length === 0 || names.includes('all') ? Object.keys(SUITES) : [...new Set(names)];
  const smoke = flags.has('--smoke');
  if (smoke && flags.has('--write')) {
    console.error(`--smoke numbers mean nothing: it does not --write\n\n${usage()}`);
    return 2;
  }
  const quick = smoke || flags.has('--quick');
  const base = smoke ? SMOKE_OPTIONS : quick ? QUICK_OPTIONS : DEFAULT_OPTIONS;
  const options = { ...base, ...(flags.has('--wall') ? { clock: 'wall' as const } : {}) };
  const log = (line: string) => process.stderr.write(`${line}\n`);

  for (const name of selected) {
    const { suite } = await SUITES[name]();
    const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    log(`# ${name}: ${suite.title}`);
    const started = performance.now();
    const report = await suite.run({ options, quick, smoke, log });
    if (smoke) log(`  ${name}: smoke run done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const meta = [
      `Command: \`${commandLine(argv)}\``,
      `Date: ${date} · Machine: ${machine()}`,
      `Code: ${codeVersion()}`,
      `Measurement: ${suite.measurement ?? `${options.clock === 'cpu' ? 'process CPU time' : 'wall-clock time'}; warm-up ${options.warmupMs} ms, then samples until ≥ ${options.minTimeMs} ms and ≥ ${options.minSamples} samples (compared rows: in 3 passes); median shown`}${smoke ? ' (SMOKE RUN: meaningless numbers)' : quick ? ' (quick run)' : ''}.`,
    ].join('  \n');
    const body = `## ${name}: ${suite.title}\n\n${meta}\n\n${renderSections(report)}`;
    console.log(`\n${body}\n`);
    if (flags.has('--write')) {
      writeSection(name, body);
      log(`wrote the ${name} section of ${BENCHMARKS_MD}`);
    }
  }
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
