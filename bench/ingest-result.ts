// Shared between bench/ingest.ts (Node) and bench/workers/ingest.bench-test.ts (workerd): the
// parameters handed in through LTX_BENCH_PARAMS, and the BENCH_RESULT JSON handed back.

export interface IngestBenchParams {
  /** Run the small-push part. */
  small: boolean;
  /** Files pushed per variant before timing (the snapshot, DO creation, JIT). */
  smallWarmup: number;
  smallRounds: number;
  smallPerRound: number;
  /** Run the big-push part. */
  big: boolean;
  /** Size of the big file's pages (4 KiB each, incompressible). */
  bigMiB: number;
  bigRounds: number;
  /** Part size of the raw multipart baseline (ours uses DEFAULT_PART_SIZE, 8 MiB). */
  partMiB: number;
}

export const DEFAULT_INGEST_PARAMS: IngestBenchParams = {
  small: true,
  smallWarmup: 20,
  smallRounds: 60,
  smallPerRound: 5,
  big: true,
  bigMiB: 128,
  bigRounds: 3,
  partMiB: 8,
};

export const SMOKE_INGEST_PARAMS: Partial<IngestBenchParams> = {
  smallWarmup: 1,
  smallRounds: 2,
  smallPerRound: 2,
  bigMiB: 12,
  bigRounds: 1,
};

export const QUICK_INGEST_PARAMS: Partial<IngestBenchParams> = {
  smallWarmup: 10,
  smallRounds: 16,
  smallPerRound: 4,
  bigMiB: 32,
  bigRounds: 2,
};

/** Time spent in the calls an instrumented ingestLTX made, summed over `ops` ingests. */
export interface Split {
  ops: number;
  totalMs: number;
  /** ObjectStore calls (R2 put / multipart / head). */
  r2Ms: number;
  r2Calls: number;
  /** SQL statements outside the commit transaction (position, staging page checksums). */
  sqlMs: number;
  sqlCalls: number;
  /** The commit transaction (staged checksums → pages, position, catalog row). */
  txnMs: number;
}

export interface IngestBenchResult {
  params: IngestBenchParams;
  small?: {
    files: number;
    rounds: number;
    perRound: number;
    warmup: number;
    bytes: { min: number; median: number; max: number; mean: number };
    /** Per variant: milliseconds for each round's `perRound` pushes (or puts). */
    roundMs: Record<string, number[]>;
    split: Split;
  };
  big?: {
    bytes: number;
    /** How the DO received a 4 MiB pushed body, counted in an untimed push. */
    transport: { bytes: number; reads: number; maxChunk: number; medianChunk: number };
    pages: number;
    pageSize: number;
    partSize: number;
    rounds: number;
    /** Per variant: MB/s (10^6 bytes), one value per round. */
    mbps: Record<string, number[]>;
    /** When each run happened (Date.now() in workerd), to line up the RSS samples taken from Node. */
    windows: { variant: string; start: number; end: number }[];
    /** Whether the body the DO receives supports a BYOB reader with readAtLeast (the "what if" row). */
    byobSupported: boolean;
    split: Split;
  };
  started: number;
  ended: number;
}
