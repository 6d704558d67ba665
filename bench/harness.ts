// Tiny measurement helper for the benchmark suites: warm-up, timed samples, median throughput.

import v8 from 'node:v8';
import vm from 'node:vm';

export { prng, type Prng } from '../test/helpers/prng.ts';

export interface MeasureOptions {
  /** Keep taking samples until this much time has been measured (after warm-up). */
  minTimeMs: number;
  /** ...and until at least this many samples have been taken. */
  minSamples: number;
  /** Warm-up time before measuring (at least two calls are always made). */
  warmupMs: number;
  /**
   * 'cpu' (default): process CPU time (user + system, all threads), which is what a Worker is limited
   * and billed by, and which other processes on a shared machine barely disturb. 'wall': elapsed time.
   */
  clock: 'cpu' | 'wall';
}

export const DEFAULT_OPTIONS: MeasureOptions = { minTimeMs: 1000, minSamples: 5, warmupMs: 300, clock: 'cpu' };
export const QUICK_OPTIONS: MeasureOptions = { minTimeMs: 200, minSamples: 5, warmupMs: 200, clock: 'cpu' };
export const SMOKE_OPTIONS: MeasureOptions = { minTimeMs: 5, minSamples: 1, warmupMs: 1, clock: 'cpu' };

/** What one call of the measured function does: bytes processed (→ MB/s) or operations (→ ops/s). */
export type Work = { bytes: number } | { ops: number };

export interface Measurement {
  name: string;
  unit: 'MB/s' | 'ops/s';
  /** Median throughput over the samples (MB = 10^6 bytes). */
  median: number;
  min: number;
  max: number;
  /** Median absolute deviation of the samples, relative to the median (0.01 = ±1%). */
  mad: number;
  samples: number;
  /** Calls of the function per sample. */
  callsPerSample: number;
}

/** Results land here so the optimiser can never treat a measured call as dead code. */
export let sink: unknown;

/**
 * A full GC before a case's warm-up (never between its samples), so the previous case's garbage is
 * not billed to it, while its own garbage is collected in its own steady state.
 */
const collect: () => void = (() => {
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as unknown;
    if (typeof gc === 'function') return () => gc();
  } catch {
    // No GC fence then; the numbers just get a little noisier.
  }
  return () => {};
})();

/** Milliseconds on the chosen clock. */
function now(clock: 'cpu' | 'wall'): number {
  if (clock === 'wall') return performance.now();
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** The median of `xs` (the mean of the middle two for an even count). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export interface Case {
  name: string;
  fn: () => unknown;
  work: Work;
}

interface Running extends Case {
  clock: 'cpu' | 'wall';
  callsPerSample: number;
  rates: number[];
  measured: number;
}

function warmUp(c: Case, opts: MeasureOptions): Running {
  collect();
  let calls = 0;
  const t0 = now(opts.clock);
  let elapsed = 0;
  while (calls < 2 || elapsed < opts.warmupMs) {
    sink = c.fn();
    calls++;
    elapsed = now(opts.clock) - t0;
  }
  // Size a sample to at least a fifth of the measuring time, so that the GC pauses an allocating
  // case causes every few calls average out within a sample instead of splitting the samples in two.
  const callsPerSample = Math.max(1, Math.ceil(opts.minTimeMs / 5 / (elapsed / calls)));
  return { ...c, clock: opts.clock, callsPerSample, rates: [], measured: 0 };
}

function sample(r: Running): void {
  const { fn, callsPerSample, clock } = r;
  const t0 = now(clock);
  for (let i = 0; i < callsPerSample; i++) sink = fn();
  const dt = now(clock) - t0;
  r.measured += dt;
  const amount = 'bytes' in r.work ? r.work.bytes / 1e6 : r.work.ops;
  r.rates.push((amount * callsPerSample) / (dt / 1000));
}

function summarize(r: Running): Measurement {
  const med = median(r.rates);
  return {
    name: r.name,
    unit: 'bytes' in r.work ? 'MB/s' : 'ops/s',
    median: med,
    min: Math.min(...r.rates),
    max: Math.max(...r.rates),
    mad: median(r.rates.map((x) => Math.abs(x - med))) / med,
    samples: r.rates.length,
    callsPerSample: r.callsPerSample,
  };
}

const done = (r: Running, opts: MeasureOptions) => r.rates.length >= opts.minSamples && r.measured >= opts.minTimeMs;

/**
 * Measures `fn`: warms it up, then takes samples of `callsPerSample` calls each (sized so that a
 * sample lasts at least a fifth of minTimeMs) until both minTimeMs and minSamples are reached.
 */
export function measure(name: string, fn: () => unknown, work: Work, opts: MeasureOptions = DEFAULT_OPTIONS): Measurement {
  const r = warmUp({ name, fn, work }, opts);
  while (!done(r, opts)) sample(r);
  return summarize(r);
}

/**
 * Measures cases that will be compared with each other in `passes` passes over the cases; in each
 * pass a case gets a GC, a warm-up and 1/passes of its samples and measuring time, and its median
 * is taken over all its samples. Each case is measured in its own steady state (sampling the cases
 * round-robin instead bills one case's garbage to the next), while a slow spell on a shared machine
 * is spread over all the cases rather than landing on one of them.
 */
export function measureGroup(cases: Case[], opts: MeasureOptions = DEFAULT_OPTIONS, passes = 3): Measurement[] {
  const perPass: MeasureOptions = {
    ...opts,
    minTimeMs: opts.minTimeMs / passes,
    minSamples: Math.ceil(opts.minSamples / passes),
  };
  const running: Running[] = [];
  for (let pass = 0; pass < passes; pass++) {
    cases.forEach((c, i) => {
      // Later passes re-warm briefly (the code is optimised already; this settles the heap).
      const r = warmUp(c, pass === 0 ? opts : { ...opts, warmupMs: opts.warmupMs / 3 });
      // Samples keep the size estimated in the first pass, after the full warm-up.
      if (pass === 0) running.push(r);
      const acc = running[i];
      const before = { rates: acc.rates.length, measured: acc.measured };
      while (acc.rates.length - before.rates < perPass.minSamples || acc.measured - before.measured < perPass.minTimeMs) {
        sample(acc);
      }
    });
  }
  return running.map(summarize);
}

/** A throughput with a sensible number of digits: 1234, 123.4, 12.34. */
export function formatRate(v: number): string {
  if (v >= 1000) return Math.round(v).toString();
  if (v >= 100) return v.toFixed(1);
  return v.toFixed(2);
}

export function formatRatio(r: number): string {
  return `${r.toFixed(2)}×`;
}

export function formatPct(r: number): string {
  return `${(r * 100).toFixed(1)}%`;
}

export function formatMiB(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
}

// ---------------------------------------------------------------------------------------------
// Reports: what a suite hands back to bench/run.ts, rendered both to the console and to Markdown.

export interface Table {
  columns: string[];
  /** Column alignment, 'l' or 'r'; defaults to left for the first column, right for the rest. */
  align?: ('l' | 'r')[];
  rows: string[][];
}

export interface Section {
  title: string;
  /** Paragraphs before the table. */
  intro?: string[];
  table?: Table;
  /** Bullet points after the table. */
  notes?: string[];
}

export interface SuiteReport {
  /** Paragraphs at the top of the suite's section (what the data set is, what is compared). */
  intro: string[];
  sections: Section[];
}

export interface SuiteContext {
  options: MeasureOptions;
  quick: boolean;
  /** `--smoke`: the smallest run that still goes through every step (CI: a broken bench cannot land); its numbers mean nothing. */
  smoke: boolean;
  /** Progress output (stderr), not part of the report. */
  log(line: string): void;
}

export interface Suite {
  name: string;
  title: string;
  /** How the suite measures, when not with the harness's `measure` (e.g. wall time per request). */
  measurement?: string;
  run(ctx: SuiteContext): Promise<SuiteReport> | SuiteReport;
}

/** A Markdown pipe table with padded columns, so it reads well in a terminal too. */
export function renderTable(t: Table): string {
  const align = t.columns.map((_, i) => t.align?.[i] ?? (i === 0 ? 'l' : 'r'));
  const widths = t.columns.map((c, i) => Math.max(c.length, 3, ...t.rows.map((r) => (r[i] ?? '').length)));
  const cell = (s: string, i: number) => (align[i] === 'r' ? s.padStart(widths[i]) : s.padEnd(widths[i]));
  const line = (cells: string[]) => `| ${cells.map(cell).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (align[i] === 'r' ? `${'-'.repeat(w + 1)}:` : `:${'-'.repeat(w + 1)}`)).join('|')}|`;
  return [line(t.columns), rule, ...t.rows.map(line)].join('\n');
}

export function renderSections(report: SuiteReport, heading = '###'): string {
  const out: string[] = [];
  for (const p of report.intro) out.push(p, '');
  for (const s of report.sections) {
    out.push(`${heading} ${s.title}`, '');
    for (const p of s.intro ?? []) out.push(p, '');
    if (s.table) out.push(renderTable(s.table), '');
    if (s.notes?.length) out.push(...s.notes.map((n) => `- ${n}`), '');
  }
  while (out.length && out[out.length - 1] === '') out.pop();
  return out.join('\n');
}
