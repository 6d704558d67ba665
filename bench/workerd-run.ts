// Runs a benchmark test file inside workerd (vitest.bench.config.ts) from Node, samples the RSS of
// the workerd processes it starts, and hands back the one `<PREFIX> {json}` line it prints.

import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
/** RSS sampling period (ms). */
export const RSS_SAMPLE_MS = 100;

export interface RssSample {
  /** Date.now() of the sample. */
  t: number;
  /** Summed RSS of the workerd processes, KiB. */
  kib: number;
}

/** Pids of every descendant of `root` (from /proc/<pid>/stat's ppid), with their command names. */
function descendants(root: number): { pid: number; comm: string }[] {
  const children = new Map<number, { pid: number; comm: string }[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split at the last ')'.
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push({ pid: Number(name), comm });
      children.set(ppid, list);
    } catch {
      // The process ended while we looked.
    }
  }
  const out: { pid: number; comm: string }[] = [];
  const walk = (pid: number) => {
    for (const c of children.get(pid) ?? []) {
      out.push(c);
      walk(c.pid);
    }
  };
  walk(root);
  return out;
}

function rssKiB(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Samples the summed RSS of workerd processes under `root` every RSS_SAMPLE_MS until stopped. */
function sampleWorkerdRss(root: number): { stop(): RssSample[] } {
  const samples: RssSample[] = [];
  let workerd: number[] = [];
  let lastScan = 0;
  const timer = setInterval(() => {
    const now = Date.now();
    if (workerd.length === 0 || now - lastScan > 2000) {
      workerd = descendants(root)
        .filter((p) => p.comm === 'workerd')
        .map((p) => p.pid);
      lastScan = now;
    }
    let kib = 0;
    for (const pid of workerd) kib += rssKiB(pid) ?? 0;
    if (kib > 0) samples.push({ t: now, kib });
  }, RSS_SAMPLE_MS);
  return {
    stop() {
      clearInterval(timer);
      return samples;
    },
  };
}

/**
 * `npx vitest run --config vitest.bench.config.ts <testFile>` with LTX_BENCH_PARAMS = `params`;
 * returns the JSON after `prefix` on the line that starts with it, and the RSS samples.
 */
export async function runWorkerdBench<T>(
  testFile: string,
  prefix: string,
  params: unknown,
  log: (line: string) => void,
): Promise<{ result: T; rss: RssSample[] }> {
  const args = ['vitest', 'run', '--config', 'vitest.bench.config.ts', testFile];
  log(`  npx ${args.join(' ')}  (LTX_BENCH_PARAMS=${JSON.stringify(params)})`);
  const child = spawn('npx', args, {
    cwd: ROOT,
    env: { ...process.env, LTX_BENCH_PARAMS: JSON.stringify(params), NO_COLOR: '1', FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const sampler = sampleWorkerdRss(child.pid!);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  const rss = sampler.stop();
  const line = stdout.split('\n').find((l) => l.startsWith(`${prefix} `));
  if (code !== 0 || !line) {
    const tail = (stdout + stderr).split('\n').slice(-40).join('\n');
    throw new Error(`the workerd benchmark failed (exit ${code}${line ? '' : `, no ${prefix} line`}):\n${tail}`);
  }
  return { result: JSON.parse(line.slice(prefix.length + 1)) as T, rss };
}
