// Summarises a V8 .cpuprofile (node --cpu-prof): self time per function and per area, from the first
// sample under `rootName` onwards (so set-up before the measured loop is left out).
//
//   node bench/cpuprofile-summary.ts <file.cpuprofile> [rootName=decodeLTX] [top=25]

import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, rootName = 'decodeLTX', topArg = '25'] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/cpuprofile-summary.ts <file.cpuprofile> [rootName] [top]');
  process.exit(2);
}
const prof = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const label = (n: ProfileNode): string => {
  const f = n.callFrame;
  const where = f.url ? ` ${f.url.replace(/^.*\/(src|bench|test|node_modules)\//, '$1/')}:${f.lineNumber + 1}` : '';
  return `${f.functionName || '(anonymous)'}${where}`;
};
const underRoot = (id: number): boolean => {
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    if (byId.get(at)!.callFrame.functionName === rootName) return true;
  }
  return false;
};

/** Rough areas, by the file (or V8 pseudo-frame) the time was spent in. */
function area(n: ProfileNode): string {
  const { functionName: fn, url } = n.callFrame;
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(program)' || fn === '(idle)') return 'V8 runtime / other (program)';
  if (url.endsWith('crc64.ts') || url.endsWith('checksum.ts')) return 'CRC-64 (crc64.ts, checksum.ts)';
  if (url.endsWith('lz4-block.ts')) return 'LZ4 block decode (lz4-block.ts)';
  if (url.endsWith('byte-queue.ts')) return 'input buffering (byte-queue.ts)';
  if (url.endsWith('byte-writer.ts')) return 'expected-index building (byte-writer.ts)';
  if (url.endsWith('decoder.ts') || url.endsWith('page-frame.ts')) return 'decoder state machine (decoder.ts, page-frame.ts)';
  if (!url) return `builtins / native (${fn})`;
  return `other JS (${url.replace(/^.*\//, '')})`;
}

let started = false;
let total = 0;
const selfByFn = new Map<string, number>();
const selfByArea = new Map<string, number>();
for (let i = 0; i < prof.samples.length; i++) {
  const id = prof.samples[i];
  const dt = prof.timeDeltas[i + 1] ?? 0; // time until the next sample is this sample's weight
  if (!started) {
    if (!underRoot(id)) continue;
    started = true;
  }
  const n = byId.get(id)!;
  total += dt;
  selfByFn.set(label(n), (selfByFn.get(label(n)) ?? 0) + dt);
  selfByArea.set(area(n), (selfByArea.get(area(n)) ?? 0) + dt);
}
if (!started) {
  console.error(`no sample under ${rootName}`);
  process.exit(1);
}

const pct = (x: number) => `${((100 * x) / total).toFixed(1).padStart(5)}%`;
const ms = (x: number) => `${(x / 1000).toFixed(0).padStart(7)} ms`;
console.log(`${file}: ${(total / 1e6).toFixed(2)} s from the first sample under ${rootName}\n`);
console.log('By area (self time):');
for (const [k, v] of [...selfByArea].sort((a, b) => b[1] - a[1])) console.log(`  ${pct(v)} ${ms(v)}  ${k}`);
console.log(`\nTop ${topArg} functions (self time):`);
for (const [k, v] of [...selfByFn].sort((a, b) => b[1] - a[1]).slice(0, Number(topArg))) {
  console.log(`  ${pct(v)} ${ms(v)}  ${k}`);
}
