// RegistryDO: one shard of the list of databases (names, head, size, due time) that GET /v1/databases and the cron read.
import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env.ts';
import { registryShard } from '../registry/registry-shards.ts';
import { shardOf } from '../registry/shard-of.ts';
import { applyMigrations } from './migrate.ts';
import { type TickOptions, type VisitSummary, DEFAULT_CRON_MAX_DATABASES, maintainDue } from './registry-maintain.ts';
import type { PosJSON } from './rpc-result.ts';

/** Most entries one tick moves to the shards they belong to after the shard count grew. */
export const REBALANCE_BATCH = 1000;

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
  {
    version: 3,
    name: '0003_meta',
    // balanced_for: the shard count this shard last found all its entries placed for.
    sql: 'CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)',
  },
];

/**
 * One shard of LTX_EDGE_REGISTRY_SHARDS (src/registry/): each DatabaseDO upserts its head into its
 * home shard after commits and removes itself from all on delete; listing merges the shards in name
 * order; each cron tick asks every shard to maintain its own due databases.
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

  /**
   * This shard's part of a cron tick (shard `index` of `shards`): first moves up to REBALANCE_BATCH
   * entries that belong to another shard since the count grew, then maintains its due databases.
   */
  async tick(index: number, shards: number, now: number, opts: TickOptions = {}): Promise<VisitSummary & { moved: number }> {
    const moved = await this.rebalance(index, shards);
    const names = this.due(now, opts.maxDatabases ?? DEFAULT_CRON_MAX_DATABASES);
    const visits = await maintainDue(this.env, names, now, opts, (name) => this.setDue(name, null));
    return { ...visits, moved };
  }

  /**
   * Takes entries moved from another shard. The newer head wins (a DatabaseDO may have upserted
   * here already), and the earlier due time.
   */
  adopt(entries: RegistryEntry[]): void {
    this.ctx.storage.transactionSync(() => {
      for (const e of entries) {
        this.ctx.storage.sql.exec(
          `INSERT INTO databases (name, txid, checksum, page_size, size, updated_at, next_due) VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (name) DO UPDATE SET
             txid = CASE WHEN excluded.updated_at > databases.updated_at THEN excluded.txid ELSE databases.txid END,
             checksum = CASE WHEN excluded.updated_at > databases.updated_at THEN excluded.checksum ELSE databases.checksum END,
             page_size = CASE WHEN excluded.updated_at > databases.updated_at THEN excluded.page_size ELSE databases.page_size END,
             size = CASE WHEN excluded.updated_at > databases.updated_at THEN excluded.size ELSE databases.size END,
             updated_at = max(excluded.updated_at, databases.updated_at),
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
    });
  }

  /**
   * Moves entries whose home (jump hash over `shards`) is another shard there, a batch per tick,
   * until a full scan finds none; then remembers `shards` and skips the scan while it stays the same.
   */
  private async rebalance(index: number, shards: number): Promise<number> {
    const sql = this.ctx.storage.sql;
    const balanced = sql.exec("SELECT value FROM meta WHERE key = 'balanced_for'").toArray()[0];
    if (balanced && Number(balanced.value) === shards) return 0;
    const away = new Map<number, RegistryEntry[]>();
    let moved = 0;
    for (const r of sql.exec('SELECT * FROM databases')) {
      const home = shardOf(String(r.name), shards);
      if (home === index) continue;
      if (moved === REBALANCE_BATCH) break;
      moved++;
      const list = away.get(home) ?? [];
      list.push({ ...entryOf(r), nextDue: r.next_due === null ? null : Number(r.next_due) });
      away.set(home, list);
    }
    for (const [home, entries] of away) {
      await registryShard(this.env, home).adopt(entries);
      this.ctx.storage.transactionSync(() => {
        for (const e of entries) sql.exec('DELETE FROM databases WHERE name = ?', e.name);
      });
    }
    if (moved < REBALANCE_BATCH) {
      sql.exec(
        "INSERT INTO meta (key, value) VALUES ('balanced_for', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        String(shards),
      );
    }
    return moved;
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
      .map(entryOf);
  }
}

function entryOf(r: Record<string, unknown>): RegistryEntry {
  return {
    name: String(r.name),
    pos: { txid: String(r.txid), postApplyChecksum: String(r.checksum) },
    pageSize: Number(r.page_size),
    size: Number(r.size),
    updatedAt: new Date(Number(r.updated_at)).toISOString(),
  };
}
