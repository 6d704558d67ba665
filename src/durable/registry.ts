// RegistryDO: the list of databases (names, head, size) that GET /v1/databases and the cron read.
import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env.ts';
import { applyMigrations } from './migrate.ts';
import type { PosJSON } from './rpc-result.ts';

export interface RegistryEntry {
  name: string;
  /** When maintenance is next due (ms since the epoch); null/absent = nothing due until new writes. */
  nextDue?: number | null;
  pos: PosJSON;
  pageSize: number;
  /** Database size in bytes at the head. */
  size: number;
  updatedAt: string;
}

const REGISTRY_MIGRATIONS = [
  {
    version: 1,
    name: '0001_registry',
    sql: `CREATE TABLE IF NOT EXISTS databases (
      name TEXT PRIMARY KEY, txid TEXT NOT NULL, checksum TEXT NOT NULL,
      page_size INTEGER NOT NULL, size INTEGER NOT NULL, updated_at INTEGER NOT NULL)`,
  },
  {
    version: 2,
    name: '0002_next_due',
    // When the database next needs maintenance (compaction, snapshot, retention), ms; NULL = idle.
    sql: `ALTER TABLE databases ADD COLUMN next_due INTEGER;
      CREATE INDEX IF NOT EXISTS databases_next_due ON databases (next_due) WHERE next_due IS NOT NULL`,
  },
];

/**
 * One instance (named "registry"). Each DatabaseDO upserts its head after every commit and removes
 * itself on delete; listing pages through names in order, so 10k databases are cheap to walk.
 */
export class RegistryDO extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      applyMigrations(ctx.storage.sql, REGISTRY_MIGRATIONS, (fn) => ctx.storage.transactionSync(fn));
    });
  }

  /**
   * Records a database's head after a commit. Its due time only ever moves earlier here: a write
   * between an interval boundary and the cron's tick must not push the maintenance due at that
   * boundary to the next one (a database written every second was never due). setDue, after a
   * maintenance pass, is what moves it later.
   */
  upsert(e: RegistryEntry): void {
    this.ctx.storage.sql.exec(
      `INSERT INTO databases (name, txid, checksum, page_size, size, updated_at, next_due) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET txid = excluded.txid, checksum = excluded.checksum,
         page_size = excluded.page_size, size = excluded.size, updated_at = excluded.updated_at,
         next_due = CASE WHEN databases.next_due IS NULL OR excluded.next_due < databases.next_due THEN excluded.next_due ELSE databases.next_due END`,
      e.name,
      e.pos.txid,
      e.pos.postApplyChecksum,
      e.pageSize,
      e.size,
      Date.parse(e.updatedAt),
      e.nextDue ?? null,
    );
  }

  /** Names whose maintenance is due at `now`, most overdue first, at most `limit`. */
  due(now: number, limit = 1000): string[] {
    return this.ctx.storage.sql
      .exec(
        'SELECT name FROM databases WHERE next_due IS NOT NULL AND next_due <= ? ORDER BY next_due LIMIT ?',
        now,
        Math.min(Math.max(limit, 1), 10_000),
      )
      .toArray()
      .map((r) => String(r.name));
  }

  /** Records when `name` next needs maintenance (after a cron pass). */
  setDue(name: string, nextDue: number | null): void {
    this.ctx.storage.sql.exec('UPDATE databases SET next_due = ? WHERE name = ?', nextDue, name);
  }

  remove(name: string): void {
    this.ctx.storage.sql.exec('DELETE FROM databases WHERE name = ?', name);
  }

  /** Up to `limit` entries with names after `after`, in name order. */
  list(after = '', limit = 1000, prefix = ''): RegistryEntry[] {
    // Names use [a-z0-9._-] only, so every name starting with `prefix` sorts below `prefix + '~'`.
    const end = prefix === '' ? '~' : prefix + '~';
    return this.ctx.storage.sql
      .exec(
        'SELECT * FROM databases WHERE name > ? AND name >= ? AND name < ? ORDER BY name LIMIT ?',
        after,
        prefix,
        end,
        Math.min(Math.max(limit, 1), 1000),
      )
      .toArray()
      .map((r) => ({
        name: String(r.name),
        pos: { txid: String(r.txid), postApplyChecksum: String(r.checksum) },
        pageSize: Number(r.page_size),
        size: Number(r.size),
        updatedAt: new Date(Number(r.updated_at)).toISOString(),
      }));
  }
}
