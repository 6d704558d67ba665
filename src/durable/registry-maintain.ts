// One registry shard's part of a cron tick: `maintain` on each of its due databases' DOs, bounded in number, concurrency and time.

import { DEFAULT_MAINTENANCE_BUDGET_MS } from '../config.ts';
import type { Env } from '../env.ts';
import type { MaintenanceResult } from './maintain.ts';
import type { RpcResult } from './rpc-result.ts';

/** Most databases one shard visits per tick (each is one DO call: well inside 10,000 subrequests). */
export const DEFAULT_CRON_MAX_DATABASES = 5000;
/** DO calls in flight at once, per shard. */
export const DEFAULT_CRON_CONCURRENCY = 32;
/** How long past the maintenance budget the tick still waits for a DO's answer (its pass aborts itself at the budget). */
export const MAINTAIN_GRACE_MS = 15_000;

export interface TickOptions {
  maxDatabases?: number;
  concurrency?: number;
  budgetMs?: number;
  graceMs?: number;
}

/** What one shard's visits did. */
export interface VisitSummary {
  due: number;
  maintained: number;
  failed: number;
  /** Listed by the registry but unknown to their DO (deleted, never written): idled in the registry. */
  missing: number;
  actions: number;
  /** Actions that reported a failure (the DO backs off before trying them again). */
  actionsFailed: number;
  /** Databases that did not answer within the budget plus MAINTAIN_GRACE_MS: the tick moved on without them. */
  timedOut: number;
}

/** `p`'s value, or 'timeout' when it has not settled after `ms`. */
function within<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * `maintain` on each named DO (most overdue first), at most `concurrency` calls in flight. Each DO
 * stops its pass at its time budget; this waits for an answer at most `budgetMs` + MAINTAIN_GRACE_MS,
 * so one database can hold a slot, never the tick. A database whose pass fails backs off (its DO
 * moves its due time later). One whose DO answers NOT_FOUND (its files were deleted, or it was never
 * written) goes to `idle`, so it stops taking a place at the head of every tick's list; its next
 * write makes it due again.
 */
export async function maintainDue(
  env: Env,
  names: readonly string[],
  now: number,
  opts: TickOptions,
  idle: (name: string) => void,
): Promise<VisitSummary> {
  const wait = (opts.budgetMs ?? DEFAULT_MAINTENANCE_BUDGET_MS) + (opts.graceMs ?? MAINTAIN_GRACE_MS);
  const summary: VisitSummary = { due: names.length, maintained: 0, failed: 0, missing: 0, actions: 0, actionsFailed: 0, timedOut: 0 };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < names.length) {
      const name = names[next++];
      try {
        const result = (await within(env.DATABASE.getByName(name).maintain(name, now), wait)) as RpcResult<MaintenanceResult> | 'timeout';
        if (result === 'timeout') {
          summary.timedOut++;
          console.error(`maintain ${name}: no answer within ${wait} ms; the tick moves on`);
        } else if (result.ok) {
          summary.maintained++;
          summary.actions += result.value.actions.length;
          summary.actionsFailed += result.value.actions.filter((a) => !a.ok).length;
        } else if (result.error.code === 'NOT_FOUND') {
          summary.missing++;
          idle(name);
        } else {
          summary.failed++;
          console.error(`maintain ${name}: ${result.error.code} ${result.error.message}`);
        }
      } catch (e) {
        summary.failed++;
        console.error(`maintain ${name}: ${String(e)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? DEFAULT_CRON_CONCURRENCY, names.length) }, worker));
  return summary;
}
