// Shared between bench/read.ts (Node) and bench/workers/read.bench-test.ts (workerd): the parameters
// handed in through LTX_BENCH_PARAMS, and the READ_BENCH_RESULT JSON handed back.

export interface ReadBenchParams {
  /** Marks the run as this suite's: the read bench test skips itself otherwise (e.g. under `bench -- ingest`). */
  suite: 'read';
  /** Size of the snapshot (4 KiB pages of the bench/corpus.ts mix). */
  dbMiB: number;
  /** Incremental files after the snapshot; file i (1-based) rewrites 2^i random pages. */
  incrementals: number;
  /** Single-page reads per variant before timing. */
  pageWarmup: number;
  pageRounds: number;
  /** Single-page reads per variant per round (random pgnos, the same for every variant of a round). */
  pagesPerRound: number;
  /** Pages per batch request. */
  batchPages: number;
  batchRounds: number;
  snapshotRounds: number;
  /** Cold reads (caches reset before each) per cold-cost row. */
  coldReads: number;
}

export const DEFAULT_READ_PARAMS: ReadBenchParams = {
  suite: 'read',
  dbMiB: 64,
  incrementals: 8,
  pageWarmup: 20,
  pageRounds: 30,
  pagesPerRound: 40,
  batchPages: 256,
  batchRounds: 12,
  snapshotRounds: 5,
  coldReads: 20,
};

export const SMOKE_READ_PARAMS: Partial<ReadBenchParams> = {
  dbMiB: 2,
  incrementals: 2,
  pageWarmup: 1,
  pageRounds: 1,
  pagesPerRound: 4,
  batchPages: 16,
  batchRounds: 1,
  snapshotRounds: 1,
  coldReads: 2,
};

export const QUICK_READ_PARAMS: Partial<ReadBenchParams> = {
  dbMiB: 16,
  pageWarmup: 10,
  pageRounds: 8,
  pagesPerRound: 20,
  batchRounds: 3,
  snapshotRounds: 2,
  coldReads: 6,
};

/** R2 and DO calls counted at the bindings for one kind of read (per request). */
export interface CostRow {
  key: string;
  /** Per request: R2 gets (ranged or whole), R2 bytes asked for, DO calls, latency in ms. */
  gets: number[];
  bytes: number[];
  doCalls: number[];
  ms: number[];
}

export interface ReadBenchResult {
  params: ReadBenchParams;
  data: {
    pageSize: number;
    commit: number;
    /** Plan files oldest first: level, TXIDs (hex), size, pages. */
    files: { level: number; minTXID: string; maxTXID: string; size: number; pages: number; indexBytes: number }[];
    txid: string;
    /** Bytes of the database file (commit × page size). */
    dbBytes: number;
    /** Mean compressed frame size of the snapshot, bytes. */
    meanFrame: number;
  };
  /** Per variant: milliseconds of each round's `perRound` sequential single-page reads (workerd's clock ticks in ms). */
  page: { rounds: number; perRound: number; ms: Record<string, number[]> };
  /** Per variant: milliseconds of each batch of `pages` pages, one per round. */
  batch: {
    pages: number;
    concurrency: number;
    ms: Record<string, number[]>;
    /** Ranged gets the coalesced raw variant (= our source's plan of gets) issued per batch, median. */
    coalescedGets: Record<string, number>;
    /** Bytes those gets spanned per batch, median. */
    coalescedBytes: Record<string, number>;
    /** Bytes of the frames themselves per batch, median. */
    frameBytes: Record<string, number>;
  };
  /** Per variant: milliseconds of one whole snapshot, one per round ("onepart:…": after re-putting the snapshot object with one put). */
  snapshot: {
    ms: Record<string, number[]>;
    /** Bytes of the plan's LTX objects (what the raw-ltx variant streams). */
    ltxBytes: number;
    /** Bytes of format=ltx output. */
    ltxOutBytes: number;
    /** Chunks the Worker's response body arrived in, and their median size (one untimed download). */
    chunks: number;
    medianChunk: number;
    /** Whole-object R2 stream chunks (raw, snapshot object), same. */
    rawChunks: number;
    rawMedianChunk: number;
    /** The same for the snapshot's bytes stored with one put, and for the plain .db object. */
    putChunks: number;
    putMedianChunk: number;
    dbChunks: number;
    dbMedianChunk: number;
    /** Size of the snapshot LTX object, and whether its etag says multipart ("…-<parts>"). */
    snapshotObjectBytes: number;
    snapshotMultipart: boolean;
  };
  cold: CostRow[];
  started: number;
  ended: number;
}
