// Catalog model for maintenance tests: pushes add L0 files, planned actions are applied the way the DO runs them.
import type { CatalogEntry, MaintenanceAction, MaintenanceConfig } from '../../src/replication/maintenance.ts';

/** Litestream keeps compaction inputs until retention ('keep'); the DO's compactFiles drops them at once ('replace'). */
export type CompactMode = 'keep' | 'replace';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
/** A day boundary (every default interval divides a day), so ticks at T0 + k·interval are boundaries. */
export const T0 = Date.UTC(2026, 0, 1);

/** DESIGN §2 defaults (src/config.ts) and the DO's read grace. */
export const DEFAULTS: MaintenanceConfig = {
  levelIntervalsMs: [MINUTE, 5 * MINUTE, HOUR],
  snapshotIntervalMs: DAY,
  snapshotRetentionMs: DAY,
  l0RetentionMs: 5 * MINUTE,
  readGraceMs: MINUTE,
};

export function file(level: number, min: number | bigint, max: number | bigint, createdAt: number, size = 4096): CatalogEntry {
  return { level, minTXID: BigInt(min), maxTXID: BigInt(max), size, timestamp: createdAt, createdAt };
}

/** `compact L1 1-50`, `snapshot 50`, `delete l0-retention L0 1-50 (50)` — readable expectations. */
export function describeAction(a: MaintenanceAction): string {
  if (a.kind === 'compact') return `compact L${a.level} ${a.minTXID}-${a.maxTXID}`;
  if (a.kind === 'snapshot') return `snapshot ${a.maxTXID}`;
  const levels = [...new Set(a.files.map((f) => f.level))]
    .sort()
    .map((l) => `L${l}`)
    .join(',');
  let min = a.files[0].minTXID;
  let max = a.files[0].maxTXID;
  for (const f of a.files) {
    if (f.minTXID < min) min = f.minTXID;
    if (f.maxTXID > max) max = f.maxTXID;
  }
  return `delete ${a.reason} ${levels} ${min}-${max} (${a.files.length})`;
}

/** The R2 key's identity: level, MinTXID and MaxTXID (every snapshot has MinTXID 1). */
function key(level: number, min: bigint, max: bigint): string {
  return `${level}/${min}-${max}`;
}

/**
 * The catalog of one database. Files are kept in insertion order, which per level is TXID order
 * (what the DO's catalog query returns), so the planner's sortedness check passes.
 */
export class CatalogModel {
  readonly files = new Map<string, CatalogEntry>();
  head = 0n;
  /** Database size in bytes: compactions are capped at it, snapshots are this big. */
  dbBytes = 64 * 1024 * 1024;

  readonly mode: CompactMode;

  constructor(mode: CompactMode = 'keep') {
    this.mode = mode;
  }

  list(): CatalogEntry[] {
    return [...this.files.values()];
  }

  add(f: CatalogEntry): void {
    this.files.set(key(f.level, f.minTXID, f.maxTXID), f);
    if (f.maxTXID > this.head) this.head = f.maxTXID;
  }

  /** One pushed batch of `txns` transactions at `at` (ms). */
  push(at: number, txns = 1, size = 4096): void {
    this.add(file(0, this.head + 1n, this.head + BigInt(txns), at, size));
  }

  /**
   * Runs `actions` in order, each committing at now + 50 ms × (its index + 1). A compaction's
   * inputs must be level L-1 files tiling its range exactly (at least two); a snapshot is at the
   * head; a delete names live files. Throws otherwise.
   */
  apply(actions: readonly MaintenanceAction[], now: number): void {
    actions.forEach((a, i) => {
      const at = now + 50 * (i + 1);
      if (a.kind === 'compact') this.compact(a.level, a.minTXID, a.maxTXID, at);
      else if (a.kind === 'snapshot') {
        if (a.maxTXID !== this.head) throw new Error(`snapshot at ${a.maxTXID}, head ${this.head}`);
        this.add({ level: 9, minTXID: 1n, maxTXID: a.maxTXID, size: this.dbBytes, timestamp: this.latestTimestamp(), createdAt: at });
      } else {
        for (const f of a.files) {
          if (!this.files.delete(key(f.level, f.minTXID, f.maxTXID))) throw new Error(`delete of a missing file L${f.level} ${f.minTXID}`);
        }
      }
    });
  }

  private compact(level: number, min: bigint, max: bigint, at: number): void {
    const inputs = this.list()
      .filter((f) => f.level === level - 1 && f.minTXID >= min && f.maxTXID <= max)
      .sort((a, b) => (a.minTXID < b.minTXID ? -1 : 1));
    let next = min;
    for (const f of inputs) {
      if (f.minTXID !== next) throw new Error(`L${level} ${min}-${max}: inputs do not tile at ${next}`);
      next = f.maxTXID + 1n;
    }
    if (inputs.length < 2 || next !== max + 1n) throw new Error(`L${level} ${min}-${max}: ${inputs.length} inputs reach ${next - 1n}`);
    const size = Math.min(
      this.dbBytes,
      inputs.reduce((s, f) => s + f.size, 0),
    );
    if (this.mode === 'replace') for (const f of inputs) this.files.delete(key(f.level, f.minTXID, f.maxTXID));
    this.add({ level, minTXID: min, maxTXID: max, size, timestamp: inputs[inputs.length - 1].timestamp, createdAt: at });
  }

  private latestTimestamp(): number {
    let t = 0;
    for (const f of this.files.values()) if (f.maxTXID === this.head && f.timestamp > t) t = f.timestamp;
    return t;
  }
}
