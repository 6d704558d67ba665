// Shared between bench/compact.ts (Node) and bench/workers/compact.bench-test.ts (workerd): the
// parameters handed in through LTX_BENCH_PARAMS, and the COMPACT_BENCH_RESULT JSON handed back.

export interface CompactBenchParams {
  /** Run the many-small-files part: `smallFiles` L0 files (buildChain, 4 KiB pages) into one L1 file. */
  small: boolean;
  smallFiles: number;
  smallRounds: number;
  /** Run the large-database part: a snapshot of `bigMiB` incompressible pages + `bigChanges` change files into one file. */
  big: boolean;
  bigMiB: number;
  bigChanges: number;
  /** Each change file writes 1..this many random pages (random content). */
  bigChangePages: number;
  bigRounds: number;
}

export const DEFAULT_COMPACT_PARAMS: CompactBenchParams = {
  small: true,
  smallFiles: 1000,
  smallRounds: 5,
  big: true,
  bigMiB: 512,
  bigChanges: 200,
  bigChangePages: 64,
  bigRounds: 2,
};

export const SMOKE_COMPACT_PARAMS: Partial<CompactBenchParams> = {
  smallFiles: 20,
  smallRounds: 1,
  bigMiB: 4,
  bigChanges: 5,
  bigChangePages: 4,
  bigRounds: 1,
};

export const QUICK_COMPACT_PARAMS: Partial<CompactBenchParams> = {
  smallFiles: 300,
  smallRounds: 3,
  bigMiB: 64,
  bigChanges: 50,
  bigRounds: 2,
};

/** One compaction workload, measured for every variant in alternating rounds. */
export interface CompactCase {
  /** Input files and their total bytes (what both variants read). */
  files: number;
  inputBytes: number;
  /** Bytes of the compacted file (ours) and of the copy (raw: the inputs concatenated). */
  outputBytes: number;
  /** Pages in the database at the end of the range (the output's commit). */
  pages: number;
  pageSize: number;
  rounds: number;
  /** Untimed set-up: building and pushing the inputs (ms). */
  setupMs: number;
  /** Per variant: milliseconds of each round. */
  ms: Record<string, number[]>;
  /** When each run happened (Date.now() in workerd), to line up the RSS samples taken from Node. */
  windows: { variant: string; start: number; end: number }[];
}

export interface CompactBenchResult {
  params: CompactBenchParams;
  small?: CompactCase;
  big?: CompactCase;
  started: number;
  ended: number;
}
