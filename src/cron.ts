// The Cron Trigger: every registry shard runs its due databases' maintenance (and moves entries a grown shard count placed elsewhere).

import type { TickOptions, VisitSummary } from './durable/registry-maintain.ts';
import type { Env } from './env.ts';
import { registryShard } from './registry/registry-shards.ts';

export { DEFAULT_CRON_CONCURRENCY, DEFAULT_CRON_MAX_DATABASES, MAINTAIN_GRACE_MS } from './durable/registry-maintain.ts';

export interface CronSummary extends VisitSummary {
  shards: number;
  /** Shards whose part failed (their databases wait for the next tick; the others went on). */
  shardsFailed: number;
  /** Registry entries moved to the shard they belong to since the shard count grew. */
  moved: number;
}

/**
 * One tick: each of the `shards` registry shards, all at once, visits its own due databases (most
 * overdue first, at most `maxDatabases`, `concurrency` DO calls in flight, registry-maintain.ts) and
 * reports back. A shard that fails or cannot be reached delays only its own databases.
 */
export async function runMaintenanceTick(env: Env, now: number, shards: number, opts: TickOptions = {}): Promise<CronSummary> {
  const parts = await Promise.allSettled(Array.from({ length: shards }, (_, i) => registryShard(env, i).tick(i, shards, now, opts)));
  const summary: CronSummary = {
    due: 0,
    maintained: 0,
    failed: 0,
    missing: 0,
    actions: 0,
    actionsFailed: 0,
    timedOut: 0,
    shards,
    shardsFailed: 0,
    moved: 0,
  };
  parts.forEach((part, i) => {
    if (part.status === 'rejected') {
      summary.shardsFailed++;
      console.error(`registry shard ${i}: ${String(part.reason)}`);
      return;
    }
    for (const key of ['due', 'maintained', 'failed', 'missing', 'actions', 'actionsFailed', 'timedOut', 'moved'] as const) {
      summary[key] += part.value[key];
    }
  });
  return summary;
}
