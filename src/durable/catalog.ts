// Typed SQL over the DatabaseDO's SQLite: the position, the catalog of LTX files, per-page checksums.

import { formatHex64, parseHex64, formatTXID } from '../ltx/index.ts';
import type { SqlExec } from './migrate.ts';

/** The database head. TXID 0 with no row means empty. */
export interface Position {
  /** Never reused: a database deleted and created again under its name gets a new one (migrations/0005). */
  incarnation: string;
  pageSize: number;
  commit: number;
  txid: bigint;
  checksum: bigint;
  createdAt: number;
  updatedAt: number;
}

/** One committed LTX object in R2. */
export interface CatalogFile {
  level: number;
  minTXID: bigint;
  maxTXID: bigint;
  size: number;
  /** LTX header timestamp, ms since the epoch. */
  timestamp: number;
  fileChecksum: bigint;
  /** True database checksum after this file (computed by the DO even for NoChecksum files). */
  postApplyChecksum: bigint;
  commit: number;
  createdAt: number;
  /** Bytes from the page index's start to the object's end (tailFacts); unknown for files catalogued before migration 0007. */
  indexBytes?: number;
}

type Row = Record<string, unknown>;

function hex(v: unknown): bigint {
  const b = parseHex64(String(v));
  if (b === undefined) throw new Error(`catalog holds a malformed hex value: ${String(v)}`);
  return b;
}

function toFile(r: Row): CatalogFile {
  return {
    level: Number(r.level),
    minTXID: hex(r.min_txid),
    maxTXID: hex(r.max_txid),
    size: Number(r.size),
    timestamp: Number(r.timestamp),
    fileChecksum: hex(r.file_checksum),
    postApplyChecksum: hex(r.post_apply_checksum),
    commit: Number(r.commit_pages),
    createdAt: Number(r.created_at),
    ...(r.index_bytes === null || r.index_bytes === undefined ? {} : { indexBytes: Number(r.index_bytes) }),
  };
}

/** Reads and writes go straight to SQLite; callers group writes with the DO's transactionSync. */
export class Catalog {
  private readonly sql: SqlExec;

  constructor(sql: SqlExec) {
    this.sql = sql;
  }

  position(): Position | undefined {
    const r = this.sql.exec('SELECT * FROM position WHERE id = 1').toArray()[0];
    if (!r) return undefined;
    let incarnation = String(r.incarnation);
    if (incarnation === '') {
      incarnation = newIncarnation();
      this.sql.exec('UPDATE position SET incarnation = ? WHERE id = 1', incarnation);
    }
    return {
      incarnation,
      pageSize: Number(r.page_size),
      commit: Number(r.commit_pages),
      txid: hex(r.txid),
      checksum: hex(r.checksum),
      createdAt: Number(r.created_at),
      updatedAt: Number(r.updated_at),
    };
  }

  /** Moves the head; the first call of a database's life also gives it its incarnation. */
  setPosition(p: Omit<Position, 'createdAt' | 'updatedAt' | 'incarnation'>, now: number): void {
    this.sql.exec(
      `INSERT INTO position (id, page_size, commit_pages, txid, checksum, created_at, updated_at, incarnation)
       VALUES (1, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET page_size = excluded.page_size, commit_pages = excluded.commit_pages,
         txid = excluded.txid, checksum = excluded.checksum, updated_at = excluded.updated_at`,
      p.pageSize,
      p.commit,
      formatTXID(p.txid),
      formatHex64(p.checksum),
      now,
      now,
      newIncarnation(),
    );
  }

  addFile(f: CatalogFile): void {
    this.sql.exec(
      `INSERT INTO files (level, min_txid, max_txid, size, timestamp, file_checksum, post_apply_checksum, commit_pages, created_at, index_bytes)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      f.level,
      formatTXID(f.minTXID),
      formatTXID(f.maxTXID),
      f.size,
      f.timestamp,
      formatHex64(f.fileChecksum),
      formatHex64(f.postApplyChecksum),
      f.commit,
      f.createdAt,
      f.indexBytes ?? null,
    );
  }

  /** Files at `level` (all levels when undefined) whose MinTXID is after `after`, ascending. */
  files(level?: number, after = 0n, limit = 1000): CatalogFile[] {
    const rows =
      level === undefined
        ? this.sql.exec('SELECT * FROM files WHERE min_txid > ? ORDER BY level, min_txid LIMIT ?', formatTXID(after), limit)
        : this.sql.exec('SELECT * FROM files WHERE level = ? AND min_txid > ? ORDER BY min_txid LIMIT ?', level, formatTXID(after), limit);
    return rows.toArray().map(toFile);
  }

  /** Every file whose MaxTXID is at most `maxTXID` (all levels): the input of a restore plan. */
  filesUpTo(maxTXID: bigint): CatalogFile[] {
    return this.sql.exec('SELECT * FROM files WHERE max_txid <= ? ORDER BY min_txid, level', formatTXID(maxTXID)).toArray().map(toFile);
  }

  /** For each page, the MaxTXID of the file that last wrote it at the head (undefined if unknown). */
  pageWriters(pgnos: readonly number[]): Map<number, bigint> {
    const out = new Map<number, bigint>();
    for (const pgno of pgnos) {
      const r = this.sql.exec('SELECT writer FROM pages WHERE pgno = ?', pgno).toArray()[0];
      const w = r ? parseHex64(String(r.writer)) : undefined;
      if (w !== undefined && w > 0n) out.set(pgno, w);
    }
    return out;
  }

  /** Pages whose last writer is after `since` (changes at the head). */
  pagesWrittenAfter(since: bigint): number[] {
    return this.sql
      .exec('SELECT pgno FROM pages WHERE writer > ? ORDER BY pgno', formatTXID(since))
      .toArray()
      .map((r) => Number(r.pgno));
  }

  /** A file (lowest level first) whose MaxTXID is `txid`. */
  fileEndingAt(txid: bigint): CatalogFile | undefined {
    const r = this.sql.exec('SELECT * FROM files WHERE max_txid = ? ORDER BY level LIMIT 1', formatTXID(txid)).toArray()[0];
    return r ? toFile(r) : undefined;
  }

  /** The file at `level` covering exactly [min, max], if committed. */
  file(level: number, min: bigint, max: bigint): CatalogFile | undefined {
    const r = this.sql
      .exec('SELECT * FROM files WHERE level = ? AND min_txid = ? AND max_txid = ?', level, formatTXID(min), formatTXID(max))
      .toArray()[0];
    return r ? toFile(r) : undefined;
  }

  /** Number of files and bytes per level. */
  levels(): { level: number; files: number; bytes: number }[] {
    return this.sql
      .exec('SELECT level, COUNT(*) AS n, SUM(size) AS bytes FROM files GROUP BY level ORDER BY level')
      .toArray()
      .map((r) => ({ level: Number(r.level), files: Number(r.n), bytes: Number(r.bytes) }));
  }

  /**
   * The oldest state a restore can still build: among files that start at TXID 1 (every snapshot, and
   * L0/compacted files no retention has removed yet), the one ending first. Undefined when empty.
   */
  oldestRestorable(): CatalogFile | undefined {
    const r = this.sql.exec('SELECT * FROM files WHERE min_txid = ? ORDER BY max_txid LIMIT 1', formatTXID(1n)).toArray()[0];
    return r ? toFile(r) : undefined;
  }

  /** Drops one file's row (compaction replaced it, or retention removed it). */
  deleteFile(level: number, minTXID: bigint, maxTXID: bigint): void {
    this.sql.exec('DELETE FROM files WHERE level = ? AND min_txid = ? AND max_txid = ?', level, formatTXID(minTXID), formatTXID(maxTXID));
  }

  /** Forgets everything (database deleted). */
  /**
   * How many times retention removed files from this database: cached reads at explicit TXIDs are
   * keyed by it (with the incarnation), so a TXID retention retired is planned again — and answers
   * 410 — instead of being served from a cache. Kept in `meta`, so a DELETE resets it with the rest.
   */
  generation(): number {
    const r = this.sql.exec("SELECT value FROM meta WHERE key = 'generation'").toArray()[0];
    return r ? Number(r.value) : 0;
  }

  /** Counts one more removal of files (call in the transaction that removes their rows). */
  nextGeneration(): void {
    this.sql.exec(
      "INSERT INTO meta (key, value) VALUES ('generation', '1') ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
    );
  }

  clear(): void {
    this.sql.exec('DELETE FROM position');
    this.sql.exec('DELETE FROM files');
    this.sql.exec('DELETE FROM pages');
  }
}

/** 128 random bits as 32 hex digits. */
function newIncarnation(): string {
  return crypto.randomUUID().replaceAll('-', '');
}
