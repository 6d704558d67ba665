// How a database's maintenance has been going: consecutive failed passes, and the backoff they earn (in the DO's meta table).

import type { SqlExec } from './migrate.ts';

/** First retry after a failed pass (1 min: the next tick), doubling per consecutive failure... */
export const MAINTENANCE_BACKOFF_BASE_MS = 60_000;
/** ...up to 1 h, so a database that keeps failing costs a tick a few times an hour, not every minute. */
export const MAINTENANCE_BACKOFF_MAX_MS = 3_600_000;

/** What GET …/:db (info) and …/stats report as `maintenance`. */
export interface MaintenanceStateJSON {
  /** Failed passes in a row (0 after a pass that failed nothing). */
  failures: number;
  /** Not maintained again before this (RFC3339), or null when not backing off. */
  retryAt: string | null;
  /** The last failure: which action, why, when. */
  lastFailure: { action: string; error: string; at: string } | null;
  /** The last pass stopped at its time budget (LTX_EDGE_MAINTENANCE_BUDGET) with work left. */
  budgetExhausted: boolean;
}

interface Stored {
  failures: number;
  retryAt: number | null;
  lastFailure: { action: string; error: string; at: number } | null;
  budgetExhausted: boolean;
}

const KEY = 'maintenance';
const EMPTY: Stored = { failures: 0, retryAt: null, lastFailure: null, budgetExhausted: false };

/** The wait after the `failures`-th failed pass in a row. */
export function maintenanceBackoffMs(failures: number): number {
  if (failures <= 0) return 0;
  return Math.min(MAINTENANCE_BACKOFF_MAX_MS, MAINTENANCE_BACKOFF_BASE_MS * 2 ** Math.min(failures - 1, 30));
}

/** The maintenance record of one DO: read from its meta row once, then kept in memory and written through. */
export class MaintenanceState {
  private readonly sql: SqlExec;
  private cached: Stored | undefined;

  constructor(sql: SqlExec) {
    this.sql = sql;
  }

  private read(): Stored {
    if (!this.cached) {
      const r = this.sql.exec('SELECT value FROM meta WHERE key = ?', KEY).toArray()[0];
      this.cached = r ? { ...EMPTY, ...(JSON.parse(String(r.value)) as Partial<Stored>) } : EMPTY;
    }
    return this.cached;
  }

  private write(s: Stored): void {
    this.sql.exec(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      KEY,
      JSON.stringify(s),
    );
    this.cached = s;
  }

  /** Forgets the record after its row went (the database was deleted). */
  forget(): void {
    this.cached = undefined;
  }

  /** Not before this (ms), or undefined when not backing off at `now`. */
  retryAt(now: number): number | undefined {
    const at = this.read().retryAt;
    return at !== null && at > now ? at : undefined;
  }

  /**
   * Records a pass at `now`: a failure (an action failed, or ran past the budget and was aborted)
   * extends the backoff; a pass that failed nothing clears it. Returns the time before which the
   * database should not be maintained again (undefined: no backoff).
   */
  recordPass(now: number, pass: { failure?: { action: string; error: string }; budgetExhausted: boolean }): number | undefined {
    const prev = this.read();
    if (!pass.failure) {
      this.write({ ...prev, failures: 0, retryAt: null, budgetExhausted: pass.budgetExhausted });
      return undefined;
    }
    const failures = prev.failures + 1;
    const retryAt = now + maintenanceBackoffMs(failures);
    this.write({ failures, retryAt, lastFailure: { ...pass.failure, at: now }, budgetExhausted: pass.budgetExhausted });
    return retryAt;
  }

  toJSON(): MaintenanceStateJSON {
    const s = this.read();
    return {
      failures: s.failures,
      retryAt: s.retryAt === null ? null : new Date(s.retryAt).toISOString(),
      lastFailure: s.lastFailure && { ...s.lastFailure, at: new Date(s.lastFailure.at).toISOString() },
      budgetExhausted: s.budgetExhausted,
    };
  }
}
