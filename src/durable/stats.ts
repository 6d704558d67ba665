// Counters the DatabaseDO keeps for GET /v1/databases/:db/stats: writes, bytes, maintenance, errors.

import type { MaintenanceStateJSON } from './maintenance-state.ts';
import type { SqlExec } from './migrate.ts';

export const STAT_KEYS = [
  'pushes', // files committed through POST …/ltx
  'pushBytes',
  'repushes', // identical re-pushes answered 200
  'txWrites', // page-set writes through POST …/tx
  'rejected', // writes refused with a 4xx
  'storageErrors', // writes refused with 503 after retries
  'compactions',
  'snapshots',
  'filesDeleted',
  'consistencyErrors', // level gaps/overlaps found after a maintenance pass
  'maintenanceFailures', // maintenance passes with a failed (or budget-aborted) action; each one backs off
  'maintenanceBudgetExhausted', // passes that reached LTX_EDGE_MAINTENANCE_BUDGET with work left
] as const;

export type StatKey = (typeof STAT_KEYS)[number];

export interface StatsJSON {
  counters: Record<StatKey, number>;
  lastError: { code: string; message: string; at: string } | null;
  maintenance: MaintenanceStateJSON;
}

/** Counters in the DO's SQLite; increments are plain upserts (they ride the DO's write coalescing). */
export class Stats {
  private readonly sql: SqlExec;

  constructor(sql: SqlExec) {
    this.sql = sql;
  }

  bump(key: StatKey, by = 1): void {
    this.bumpAll([[key, by]]);
  }

  /** Several counters in one statement (a push: its count and its bytes). */
  bumpAll(counts: [StatKey, number][]): void {
    const nonzero = counts.filter(([, by]) => by !== 0);
    if (nonzero.length === 0) return;
    this.sql.exec(
      `INSERT INTO stats (key, value) VALUES ${nonzero.map(() => '(?, ?)').join(', ')} ON CONFLICT (key) DO UPDATE SET value = value + excluded.value`,
      ...nonzero.flat(),
    );
  }

  recordError(code: string, message: string, now: number): void {
    this.sql.exec(
      "INSERT INTO meta (key, value) VALUES ('lastError', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      JSON.stringify({ code, message: message.slice(0, 500), at: new Date(now).toISOString() }),
    );
  }

  read(maintenance: MaintenanceStateJSON): StatsJSON {
    const counters = Object.fromEntries(STAT_KEYS.map((k) => [k, 0])) as Record<StatKey, number>;
    for (const r of this.sql.exec('SELECT key, value FROM stats').toArray()) {
      if ((STAT_KEYS as readonly string[]).includes(String(r.key))) counters[r.key as StatKey] = Number(r.value);
    }
    const e = this.sql.exec("SELECT value FROM meta WHERE key = 'lastError'").toArray()[0];
    return { counters, lastError: e ? (JSON.parse(String(e.value)) as StatsJSON['lastError']) : null, maintenance };
  }

  clear(): void {
    this.sql.exec('DELETE FROM stats');
  }
}
