// A DatabaseDO's calls to its registry shard: the new head after writes (coalesced, never awaited by the writer), due times, removal.

import type { Env } from '../env.ts';
import { homeShard, removeFromRegistry } from '../registry/registry-shards.ts';
import type { Catalog } from './catalog.ts';
import { headJSON } from './ingest.ts';
import type { MaintenanceState } from './maintenance-state.ts';

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

  constructor(env: Env, catalog: Catalog, maintenanceState: MaintenanceState, stepMs: number, shards: number) {
    this.env = env;
    this.shards = shards;
    this.catalog = catalog;
    this.maintenanceState = maintenanceState;
    this.stepMs = stepMs;
  }

  /**
   * Tells the registry about the head after a successful write. Coalesced: at most one upsert in
   * flight per database, the latest head sent when it returns, so a busy database costs the registry
   * one call per round trip, not one per push (the catalog is the authority).
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
    return removeFromRegistry(this.env, this.shards, name);
  }

  private async flush(name: string): Promise<void> {
    this.busy = true;
    try {
      while (this.dirty) {
        this.dirty = false;
        const pos = this.catalog.position();
        if (!pos) break;
        const now = Date.now();
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
