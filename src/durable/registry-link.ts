// A DatabaseDO's calls to its registry shard: the new head after writes (coalesced, never awaited by the writer), due times, removal.

import type { Env } from '../env.ts';
import { homeShard, removeFromRegistry } from '../registry/registry-shards.ts';
import type { Catalog } from './catalog.ts';
import { headJSON } from './ingest.ts';
import type { MaintenanceState } from './maintenance-state.ts';

/**
 * At least this long between two head announcements of one database: a database pushed every few
 * milliseconds costs its DO and its shard one call per interval, not one per push (the call was
 * ~0.7 ms of the DO's turn per push, BENCHMARKS.md ingest). The last head always follows; the due
 * time it carries only moves at interval boundaries anyway.
 */
export const ANNOUNCE_GAP_MS = 250;

export class RegistryLink {
  private readonly env: Env;
  private readonly catalog: Catalog;
  private readonly maintenanceState: MaintenanceState;
  /** After a write, the level-1 compaction is due at the next boundary of this interval. */
  private readonly stepMs: number;
  /** LTX_EDGE_REGISTRY_SHARDS. */
  private readonly shards: number;
  private dirty = false;
  private busy = false;
  /** When the last announcement was sent (ms). */
  private lastSent = 0;

  constructor(env: Env, catalog: Catalog, maintenanceState: MaintenanceState, stepMs: number, shards: number) {
    this.env = env;
    this.shards = shards;
    this.catalog = catalog;
    this.maintenanceState = maintenanceState;
    this.stepMs = stepMs;
  }

  /**
   * Tells the registry about the head after a successful write. Coalesced: at most one upsert in
   * flight per database and at most one per ANNOUNCE_GAP_MS, the latest head sent each time (the
   * catalog is the authority; the first write after a quiet spell is announced at once).
   */
  announce(name: string): void {
    if (!this.catalog.position()) return;
    this.dirty = true;
    if (!this.busy) void this.flush(name);
  }

  /** When maintenance should come back for `name` (null: nothing due). */
  setDue(name: string, nextDue: number | null): Promise<void> {
    return this.home(name)
      .setDue(name, nextDue)
      .catch((e: unknown) => console.error(`registry setDue ${name}: ${String(e)}`));
  }

  remove(name: string): Promise<void> {
    this.lastSent = 0; // a database created again under the name is listed at its first write
    return removeFromRegistry(this.env, this.shards, name);
  }

  private async flush(name: string): Promise<void> {
    this.busy = true;
    try {
      while (this.dirty) {
        const wait = this.lastSent + ANNOUNCE_GAP_MS - Date.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        this.dirty = false;
        const pos = this.catalog.position();
        if (!pos) break;
        const now = Date.now();
        this.lastSent = now;
        await this.home(name)
          .upsert({
            name,
            // Due at the next interval boundary, or when a maintenance backoff ends.
            nextDue: Math.max(Math.ceil(now / this.stepMs) * this.stepMs, this.maintenanceState.retryAt(now) ?? 0),
            pos: headJSON(pos),
            pageSize: pos.pageSize,
            size: pos.pageSize * pos.commit,
            updatedAt: new Date(pos.updatedAt).toISOString(),
          })
          .catch((e: unknown) => console.error(`registry upsert ${name}: ${String(e)}`));
      }
    } finally {
      this.busy = false;
    }
  }

  private home(name: string) {
    return homeShard(this.env, this.shards, name);
  }
}
