// RegistryDO: the list of databases (names, head, size) that GET /v1/databases and the cron read.
import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env.ts';
import { applyMigrations } from './migrate.ts';
import type { PosJSON } from './rpc-result.ts';

export interface RegistryEntry {
  name: string;
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

  upsert(e: RegistryEntry): void {
    this.ctx.storage.sql.exec(
      `INSERT INTO databases (name, txid, checksum, page_size, size, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET txid = excluded.txid, checksum = excluded.checksum,
         page_size = excluded.page_size, size = excluded.size, updated_at = excluded.updated_at`,
      e.name,
      e.pos.txid,
      e.pos.postApplyChecksum,
      e.pageSize,
      e.size,
      Date.parse(e.updatedAt),
    );
  }

  remove(name: string): void {
    this.ctx.storage.sql.exec('DELETE FROM databases WHERE name = ?', name);
  }

  /** Up to `limit` entries with names after `after`, in name order. */
  list(after = '', limit = 1000): RegistryEntry[] {
    return this.ctx.storage.sql
      .exec('SELECT * FROM databases WHERE name > ? ORDER BY name LIMIT ?', after, Math.min(Math.max(limit, 1), 1000))
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
