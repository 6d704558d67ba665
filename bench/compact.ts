// Compact suite: our compaction (DatabaseDO.compact → compactFiles) vs a plain R2 get+put copy of the
// same input objects from a DO, in local workerd, for 1,000 small L0 files and for a large snapshot +
// changes. The measuring runs inside workerd (bench/workers/compact.bench-test.ts); this side starts
// it, samples workerd's RSS and renders the report.

import os from 'node:os';
import { type Section, type Suite, formatMiB, formatRate, formatRatio, median } from './harness.ts';
import {
  type CompactBenchParams,
  type CompactBenchResult,
  type CompactCase,
  DEFAULT_COMPACT_PARAMS,
  QUICK_COMPACT_PARAMS,
  SMOKE_COMPACT_PARAMS,
} from './compact-result.ts';
import { RSS_SAMPLE_MS, type RssSample, runWorkerdBench } from './workerd-run.ts';

const TEST_FILE = 'bench/workers/compact.bench-test.ts';
/** Our compaction's MB/s must reach this fraction of the plain copy's. */
const GOAL = 0.5;

const ROWS: { key: string; label: string; what: string }[] = [
  {
    key: 'ours',
    label: 'ours: DatabaseDO.compact → level 1',
    what:
      'RPC into the DO, the mutation queue, compactFiles: with up to 4 inputs each is streamed (its flags from a 4-byte ranged get); with more, the small ones (≤ 4 MiB) are read whole, 4 at a time, ' +
      'and beyond 32 inputs pre-merged in memory 32 at a time, the large ones streamed; then the k-way merge with LZ4 decode + re-encode and CRC-64, the output as a put (≤ 8 MiB) or a multipart upload with 8 MiB parts, the catalog commit',
  },
  {
    key: 'raw-copy',
    label: 'raw copy: get each input, put the concatenation (baseline)',
    what: "in a DO: env.LTX_BUCKET.get of every input in order, its body streamed into 8 MiB parts of one multipart upload (or one put when it all fits in one part); the same bytes in, the inputs' total out",
  },
  {
    key: 'raw-read',
    label: '… raw read alone: get each input, drop the bytes',
    what: 'the copy without its writes: what reading the inputs costs',
  },
];

function spread(xs: number[]): string {
  const m = median(xs);
  return `${(((Math.min(...xs) - m) / m) * 100).toFixed(0)}% / +${(((Math.max(...xs) - m) / m) * 100).toFixed(0)}%`;
}

const ratioCell = (r: number, goal?: number) => (goal !== undefined && r < goal ? `**${formatRatio(r)}**` : formatRatio(r));
const verdict = (r: number) => (r >= GOAL ? 'meets the goal' : '**below the goal**');
const mib = (kib: number) => formatMiB(kib * 1024);

/** Peak RSS during each variant's runs and its growth over the sample just before the run. */
function memory(c: CompactCase, rss: RssSample[]): Record<string, { peak: number; growth: number }> {
  const out: Record<string, { peak: number; growth: number }> = {};
  for (const w of c.windows) {
    const before = rss.filter((x) => x.t <= w.start).at(-1) ?? rss[0];
    const during = rss.filter((x) => x.t >= w.start && x.t <= w.end + RSS_SAMPLE_MS);
    if (!before || during.length === 0) continue;
    const peak = Math.max(...during.map((x) => x.kib));
    const prev = out[w.variant];
    out[w.variant] = { peak: Math.max(prev?.peak ?? 0, peak), growth: Math.max(prev?.growth ?? 0, peak - before.kib) };
  }
  return out;
}

function caseSection(title: string, intro: string, c: CompactCase, rss: RssSample[]): { section: Section; ratio: number; growth?: number } {
  const mbps = (k: string) => c.inputBytes / 1e6 / (median(c.ms[k]) / 1000);
  const raw = mbps('raw-copy');
  const rows = ROWS.filter((r) => c.ms[r.key]?.length).map((r) => [
    r.label,
    formatRate(mbps(r.key)),
    spread(c.ms[r.key].map((ms) => c.inputBytes / 1e6 / (ms / 1000))),
    (median(c.ms[r.key]) / 1000).toFixed(2),
    r.key === 'raw-copy' ? 'baseline' : ratioCell(mbps(r.key) / raw, r.key === 'ours' ? GOAL : undefined),
  ]);
  const ratio = mbps('ours') / raw;
  const mem = memory(c, rss);
  const memNotes =
    rss.length === 0
      ? ['workerd memory: no RSS samples (no /proc, or workerd not found under the vitest process).']
      : [
          `workerd memory (summed RSS of the workerd processes under vitest, read from /proc every ${RSS_SAMPLE_MS} ms from Node; it holds the test runner, the Worker, every DO and local R2, ` +
            `so only the growth during a run says something about that path; freed memory is not always returned to the OS): ` +
            ROWS.filter((r) => mem[r.key])
              .map((r) => `${r.label.split(':')[0]}: peak ${mib(mem[r.key].peak)}, largest growth during a run ${mib(mem[r.key].growth)}`)
              .join('; ') +
            '.' +
            (mem.ours && mem['raw-copy']
              ? ` Ours grew ${mib(mem.ours.growth - mem['raw-copy'].growth)} more than the raw copy, which writes the same amount through the same multipart machinery of local R2 (in this process too).`
              : ''),
        ];
  return {
    ratio,
    growth: mem.ours?.growth,
    section: {
      title,
      intro: [
        intro +
          ` Inputs: ${c.files} files, ${formatMiB(c.inputBytes)}; our output: one file of ${formatMiB(c.outputBytes)} (${c.pages} pages of ${c.pageSize} bytes). ` +
          `Set-up (building and pushing the inputs, untimed): ${(c.setupMs / 1000).toFixed(1)} s. ${c.rounds} rounds, the variants' order rotated every round; ` +
          `between rounds our output's catalog row and object are removed (untimed) so every round compacts the same inputs. MB/s = input MB (10^6 bytes) per second; time = the median round.`,
      ],
      table: { columns: ['variant', 'MB/s', 'spread', 's per run', 'vs raw copy'], rows },
      notes: [
        `ours / raw copy = ${ratioCell(ratio, GOAL)} (goal ≥ ${formatRatio(GOAL)}): ${verdict(ratio)}`,
        ...ROWS.filter((r) => c.ms[r.key]?.length).map((r) => `${r.label}: ${r.what}.`),
        ...memNotes,
      ],
    },
  };
}

export const suite: Suite = {
  name: 'compact',
  title: 'compaction in the DO vs a plain R2 copy of the same objects (local workerd)',
  async run(ctx) {
    const given = process.env.LTX_BENCH_PARAMS ? (JSON.parse(process.env.LTX_BENCH_PARAMS) as Partial<CompactBenchParams>) : {};
    const params: CompactBenchParams = {
      ...DEFAULT_COMPACT_PARAMS,
      ...(ctx.smoke ? SMOKE_COMPACT_PARAMS : ctx.quick ? QUICK_COMPACT_PARAMS : {}),
      ...given,
    };
    const t0 = Date.now();
    const loadBefore = os.loadavg()[0];
    const { result, rss } = await runWorkerdBench<CompactBenchResult>(TEST_FILE, 'COMPACT_BENCH_RESULT', params, ctx.log);
    const loadAfter = os.loadavg()[0];
    ctx.log(
      `  workerd run: ${((Date.now() - t0) / 1000).toFixed(1)} s (measuring ${((result.ended - result.started) / 1000).toFixed(1)} s)`,
    );

    const sections: Section[] = [];
    const glance: string[][] = [];
    if (result.small) {
      const { section, ratio, growth } = caseSection(
        `${result.small.files} small L0 files into one L1 file`,
        `A chain of ${result.small.files} small L0 files (test/helpers/chain.ts \`buildChain\`, seed 4242, 4 KiB pages, NoChecksum; each changes 1–3 pages, most compressible), pushed through POST …/ltx, then compacted [1, ${result.small.files}] into level 1.`,
        result.small,
        rss,
      );
      sections.push(section);
      glance.push([`${result.small.files} L0 files → L1, ours / raw copy`, ratioCell(ratio, GOAL), `≥ ${formatRatio(GOAL)}`]);
      if (growth !== undefined) glance.push([`… workerd RSS growth during ours`, mib(growth), '']);
    }
    if (result.big) {
      const b = result.big;
      const { section, ratio, growth } = caseSection(
        `A ${formatMiB(b.pages * b.pageSize)} snapshot + ${b.files - 1} change files into one file`,
        `A snapshot LTX file of ${b.pages} incompressible ${b.pageSize}-byte pages (seeded xorshift128, encoded while it streams into POST …/ltx), then ${b.files - 1} change files ` +
          `each writing 1–${params.bigChangePages} random pages with random contents (same commit), then [1, ${b.files}] compacted into level 1.`,
        b,
        rss,
      );
      sections.push(section);
      glance.push([
        `${formatMiB(b.inputBytes)} (snapshot + changes) → L1, ours / raw copy`,
        ratioCell(ratio, GOAL),
        `≥ ${formatRatio(GOAL)}`,
      ]);
      if (growth !== undefined) glance.push([`… workerd RSS growth during ours`, mib(growth), '']);
    }
    sections.unshift({
      title: 'At a glance',
      table: { columns: ['measure (same run)', 'value', 'goal'], rows: glance },
      notes: ['Bold: below its goal.'],
    });
    return {
      intro: [
        '**Local numbers.** Everything runs in local workerd under the Vitest Cloudflare plugin (`vitest.bench.config.ts`, started by this suite, only `' +
          TEST_FILE +
          '`): the Worker, the DatabaseDO with SQLite storage, and R2 emulated by Miniflare on the local disk. The absolute numbers are not production numbers; ' +
          'the ratio shows what compaction adds to the R2 reads and writes it has to make anyway (decode, merge, re-encode, checksums, the catalog commit).',
        '**Timing.** Wall-clock time (`performance.now()`) inside workerd: around the `compact` RPC for ours, inside a Durable Object for the raw rows. ' +
          'The "Measurement" line above describes the in-process harness of the other suites and does not apply here.',
        `Parameters: ${JSON.stringify(params)} (override with LTX_BENCH_PARAMS='{"bigMiB":256}'). ` +
          `Load average (1 min): ${loadBefore.toFixed(2)} before the run, ${loadAfter.toFixed(2)} after (${os.cpus().length} cores).`,
      ],
      sections,
    };
  },
};
