// What a Replicator is given (its options and their defaults) and what it reports (events, sync results).

import type { ApiClient } from '../remote/http-client.ts';
import type { Pos } from './agent-state.ts';
import type { Batch } from './batch.ts';

/** WAL frames taken into one push at most (bytes); a longer backlog goes in several pushes. */
export const DEFAULT_MAX_BATCH_BYTES = 64 * 1024 * 1024;
/** WAL size (pages) past which the agent runs a PASSIVE checkpoint after a push (SQLite's own autocheckpoint default). */
export const DEFAULT_CHECKPOINT_PAGES = 1_000;
/** WAL size (pages) past which it runs a TRUNCATE checkpoint, which waits for readers (about 480 MiB of 4 KiB pages). */
export const DEFAULT_TRUNCATE_PAGES = 121_000;
/** How often page checksums are saved beside the database for a cheap restart (ms); also on close. */
export const DEFAULT_SAVE_SUMS_MS = 30_000;
/**
 * After a checkpoint copied the whole WAL, how long the follow loop watches for the application's next
 * commit to restart it (ms), so the agent re-takes its read at once instead of at the next sync
 * (Replicator.settleRead).
 */
export const DEFAULT_RESTART_WAIT_MS = 250;

export interface ReplicatorOptions {
  file: string;
  db: string;
  client: ApiClient;
  maxBatchBytes?: number;
  checkpointPages?: number;
  truncatePages?: number;
  saveSumsMs?: number;
  /** On a server that holds another history, replace the local database with the server's state instead of stopping. */
  resetFromServer?: boolean;
  onEvent?: (e: AgentEvent) => void;
  now?: () => number;
}

/** What the agent tells its caller (and `replicate --json` prints, one object per line). */
export type AgentEvent =
  | {
      event: 'start';
      db: string;
      file: string;
      pageSize: number;
      commit: number;
      pos: Pos;
      action: 'snapshot' | 'in-sync' | 'diff' | 'empty' | 'reset';
    }
  | { event: 'push'; reason: Batch['reason']; txid: bigint; commits: number; pages: number; bytes: number; ms: number; status: number }
  | { event: 'checkpoint'; mode: 'PASSIVE' | 'TRUNCATE'; walFrames: number; backfilled: number; busy: boolean }
  | { event: 'rescan'; why: string };

/** What one `sync()` did. */
export interface SyncResult {
  pushes: number;
  commits: number;
  pos: Pos;
}
