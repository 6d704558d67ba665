// The Cron Trigger: finds the databases whose maintenance is due and runs it in their DOs, bounded.

import { DEFAULT_MAINTENANCE_BUDGET_MS } from './config.ts';
import type { MaintenanceResult } from './durable/maintain.ts';
import type { RpcResult } from './durable/rpc-result.ts';
import type { Env } from './env.ts';

/** Most databases one tick visits (each is one DO call: well inside 10,000 subrequests). */
export const DEFAULT_CRON_MAX_DATABASES = 5000;
/** DO calls in flight at once. */
export const DEFAULT_CRON_CONCURRENCY = 32;

export interface CronSummary {
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

/** How long past the maintenance budget the tick still waits for a DO's answer (its pass aborts itself at the budget). */
export const MAINTAIN_GRACE_MS = 15_000;

/** `p`'s value, or 'timeout' when it has not settled after `ms`. */
function within<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)));
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * One tick: the registry's due list (most overdue first), then `maintain` on each DO with at most
 * `concurrency` calls in flight. Each DO stops its pass at its time budget; the tick waits for an
 * answer at most `budgetMs` + MAINTAIN_GRACE_MS, so one database can hold a slot, never the tick.
 * A database whose pass fails backs off (its DO moves its due time later). One whose
 * DO answers NOT_FOUND (its files were deleted, or it was never written) is idled in the registry, so
 * it stops taking a place at the head of every tick's list; its next write makes it due again.
 */
export async function runMaintenanceTick(
  env: Env,
  now: number,
  opts: { maxDatabases?: number; concurrency?: number; budgetMs?: number; graceMs?: number } = {},
): Promise<CronSummary> {
  const wait = (opts.budgetMs ?? DEFAULT_MAINTENANCE_BUDGET_MS) + (opts.graceMs ?? MAINTAIN_GRACE_MS);
  const registry = env.REGISTRY.getByName('registry');
  const names = await registry.due(now, opts.maxDatabases ?? DEFAULT_CRON_MAX_DATABASES);
  const summary: CronSummary = { due: names.length, maintained: 0, failed: 0, missing: 0, actions: 0, actionsFailed: 0, timedOut: 0 };
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
          await registry.setDue(name, null);
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
