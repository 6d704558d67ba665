// The read plan the DO hands Workers (over RPC, as it is: bigint and all): the ordered LTX files that rebuild a database at a TXID, and its checks.

import { isValidDatabaseName } from '../api/database-name.ts';
import {
  HEADER_SIZE,
  INDEX_LENGTH_FIELD_SIZE,
  isContiguous,
  isValidPageSize,
  PAGE_HEADER_SIZE,
  SNAPSHOT_LEVEL,
  TRAILER_SIZE,
} from '../ltx/index.ts';
import { ltxKey } from '../storage/keys.ts';

/** One LTX object of a plan, addressed as in the storage layout (DESIGN §2). */
export interface PlanFileRef {
  level: number;
  minTXID: bigint;
  maxTXID: bigint;
  /** Object size in bytes (the page-index probe reads its last 32 KiB). */
  size: number;
  /**
   * The file header's Commit (database size in pages after it), when the planner knows it (the DO's
   * catalog does). Readers use it to drop a page copy that a later file truncated away: after a shrink
   * and a regrowth that did not rewrite the page, the page is zeros, not its old content.
   * Without it an older copy wins, as in the reference compactor.
   */
  commit?: number;
  /** Bytes from the file's page index to its end, when the catalog knows (tailFacts): the index is then one exact get. */
  indexBytes?: number;
}

/** The database at one TXID: `files` oldest first, `files[0]` a snapshot (MinTXID 1), the last ending at `txid`. */
export interface ReadPlan {
  db: string;
  /** The database's incarnation (the DO's, see migrations/0005): caches key by it, as names and R2 keys repeat after a re-creation. */
  incarnation?: string;
  /** How many times retention had removed files when the plan was made (the DO's, catalog.ts): caches key by it too. */
  generation?: number;
  txid: bigint;
  pageSize: number;
  /** Database size in pages at `txid`. */
  commit: number;
  /** Rolling post-apply checksum at `txid` (0 when the chain tracks none). */
  checksum: bigint;
  files: PlanFileRef[];
}

export type PlanErrorCode =
  /** A file of the plan is gone from storage (compaction or retention deleted it): plan again. */
  | 'PLAN_STALE'
  /** The plan breaks its own rules, or a file disagrees with it: planning again will not help. */
  | 'PLAN_INVALID';

/** A plan that cannot be read. Domain error: no HTTP knowledge (src/errors.ts maps codes). */
export class PlanError extends Error {
  readonly code: PlanErrorCode;

  constructor(code: PlanErrorCode, message: string) {
    super(message);
    this.name = 'PlanError';
    this.code = code;
  }
}

/** A file of the plan is no longer in storage; the caller plans again (once) and retries. */
export class PlanStaleError extends PlanError {
  readonly key: string;

  constructor(key: string) {
    super('PLAN_STALE', `plan file ${key} no longer exists`);
    this.name = 'PlanStaleError';
    this.key = key;
  }
}

/** True for a PlanStaleError. */
export function isPlanStale(err: unknown): err is PlanStaleError {
  return err instanceof PlanStaleError;
}

/** Smallest valid LTX file: header, end marker, an empty index (one 0 byte) with its length, trailer. */
const MIN_FILE_SIZE = HEADER_SIZE + PAGE_HEADER_SIZE + 1 + INDEX_LENGTH_FIELD_SIZE + TRAILER_SIZE;
const MAX_TXID = (1n << 64n) - 1n;
const MAX_COMMIT = 0xffffffff;

/** The R2 key of a plan file under `prefix` (DESIGN §2). */
export function planFileKey(prefix: string, db: string, file: PlanFileRef): string {
  return ltxKey(prefix, db, file.level, file.minTXID, file.maxTXID);
}

function invalid(message: string): never {
  throw new PlanError('PLAN_INVALID', message);
}

function isCommit(n: unknown): n is number {
  return Number.isInteger(n) && (n as number) >= 0 && (n as number) <= MAX_COMMIT;
}

/**
 * Checks a plan's own rules; throws PlanError PLAN_INVALID. Files: levels 0..9, a snapshot first,
 * each contiguous with the one before (overlap allowed, as compactions overlap L0), the last one
 * ending at `txid` with the plan's Commit when it says.
 */
export function validatePlan(plan: ReadPlan): void {
  if (!isValidDatabaseName(plan.db)) invalid(`invalid database name ${JSON.stringify(plan.db)}`);
  if (!isValidPageSize(plan.pageSize)) invalid(`invalid page size ${plan.pageSize}`);
  if (!isCommit(plan.commit)) invalid(`invalid commit ${plan.commit}`);
  if (plan.txid < 1n || plan.txid > MAX_TXID) invalid(`invalid TXID ${plan.txid}`);
  if (plan.checksum < 0n || plan.checksum > MAX_TXID) invalid('invalid checksum');
  const files = plan.files;
  if (files.length === 0) invalid('a plan needs at least one file');
  for (let i = 0; i < files.length; i++) {
    const f = files[i];
    if (!Number.isInteger(f.level) || f.level < 0 || f.level > SNAPSHOT_LEVEL) invalid(`file ${i}: invalid level ${f.level}`);
    if (f.minTXID < 1n || f.maxTXID < f.minTXID || f.maxTXID > MAX_TXID) invalid(`file ${i}: invalid TXIDs ${f.minTXID}-${f.maxTXID}`);
    if (!Number.isSafeInteger(f.size) || f.size < MIN_FILE_SIZE) invalid(`file ${i}: invalid size ${f.size}`);
    if (f.commit !== undefined && !isCommit(f.commit)) invalid(`file ${i}: invalid commit ${f.commit}`);
    if (i === 0 && f.minTXID !== 1n) invalid('the first file must be a snapshot (MinTXID 1)');
    if (i > 0 && !isContiguous(files[i - 1].maxTXID, f.minTXID, f.maxTXID)) {
      invalid(`file ${i} (${f.minTXID}-${f.maxTXID}) does not follow ${files[i - 1].maxTXID}`);
    }
  }
  const last = files[files.length - 1];
  if (last.maxTXID !== plan.txid) invalid(`the last file ends at ${last.maxTXID}, the plan is at ${plan.txid}`);
  if (last.commit !== undefined && last.commit !== plan.commit) invalid(`the last file has commit ${last.commit}, the plan ${plan.commit}`);
}

/**
 * For each file, the highest pgno it may still supply at the plan's TXID: the smallest Commit of the
 * files after it (files without a known commit do not count) and the plan's Commit. Non-decreasing.
 */
export function planCeilings(plan: ReadPlan): number[] {
  const out = new Array<number>(plan.files.length);
  let ceiling = plan.commit;
  for (let i = plan.files.length - 1; i >= 0; i--) {
    out[i] = ceiling;
    const c = plan.files[i].commit;
    if (c !== undefined && c < ceiling) ceiling = c;
  }
  return out;
}
