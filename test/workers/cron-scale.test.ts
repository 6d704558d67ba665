// The cron at registry scale: 10,000 databases of which 300 are due; a tick visits only the due
// ones, most overdue first, at most maxDatabases, and finishes (wall time logged, not asserted).

import { createExecutionContext, createScheduledController, runInDurableObject, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { runMaintenanceTick } from '../../src/cron.ts';
import { DatabaseDO } from '../../src/durable/database.ts';
import type { RegistryDO } from '../../src/durable/registry.ts';
import worker from '../../src/index.ts';
import { forgetInRegistry } from '../helpers/cron-sim.ts';

const TOTAL = 10_000;
const DUE = 300;

afterEach(() => {
  vi.restoreAllMocks();
});
// 9,000 rows are still due at the end: later files' ticks must not visit them (the registry is shared).
afterAll(() => forgetInRegistry('scale-%'));

/** Names of the databases `maintain` was called for, in call order (the DOs run in this isolate). */
function spyVisits(): string[] {
  const visited: string[] = [];
  const maintain = DatabaseDO.prototype.maintain;
  vi.spyOn(DatabaseDO.prototype, 'maintain').mockImplementation(function (this: DatabaseDO, ...args: Parameters<DatabaseDO['maintain']>) {
    visited.push(args[0]);
    return maintain.apply(this, args);
  });
  return visited;
}

describe('cron at registry scale', () => {
  it(`${TOTAL} databases, ${DUE} due: visits only the due ones, most overdue first, at most maxDatabases`, async () => {
    const now = Date.now();
    const name = (i: number) => `scale-${String(i).padStart(5, '0')}`;
    // Every 33rd database is due, the most overdue having the highest index; the rest are idle. A
    // month overdue, so they come before any database other test files left due in the shared registry.
    const dueAt = new Map<string, number>();
    const t0 = performance.now();
    await runInDurableObject(env.REGISTRY.getByName('registry'), (registry: RegistryDO) => {
      for (let i = 0; i < TOTAL; i++) {
        const due = i % 33 === 0 && dueAt.size < DUE ? now - 30 * 86_400_000 - i * 10 : null;
        if (due !== null) dueAt.set(name(i), due);
        registry.upsert({
          name: name(i),
          nextDue: due,
          pos: { txid: '0000000000000001', postApplyChecksum: '0000000000000000' },
          pageSize: 4096,
          size: 4096,
          updatedAt: new Date(now - 86_400_000).toISOString(),
        });
      }
    });
    const insertMs = performance.now() - t0;
    expect(dueAt.size).toBe(DUE);
    const byOverdue = [...dueAt].sort((a, b) => a[1] - b[1]).map(([n]) => n);
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    vi.spyOn(console, 'log').mockImplementation(() => undefined);

    // A tick limited to 100 databases: the 100 most overdue. These DOs were never written:
    // maintain answers NOT_FOUND, and the cron idles them in the registry.
    let visited = spyVisits();
    let t = performance.now();
    const first = await runMaintenanceTick(env, now, { maxDatabases: 100 });
    const firstMs = performance.now() - t;
    expect(first).toEqual({ due: 100, maintained: 0, failed: 0, missing: 100, actions: 0, actionsFailed: 0, timedOut: 0 });
    expect(visited.slice().sort()).toEqual(byOverdue.slice(0, 100).sort());
    vi.mocked(DatabaseDO.prototype.maintain).mockRestore();

    // The scheduled handler with the defaults (5,000 at most): the other 200, none twice.
    visited = spyVisits();
    t = performance.now();
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: '* * * * *', scheduledTime: now }), env, ctx);
    await waitOnExecutionContext(ctx);
    const secondMs = performance.now() - t;
    // (Databases other test files left due in the shared registry may follow; none of ours twice, no idle one.)
    expect(visited.filter((n) => n.startsWith('scale-')).sort()).toEqual(byOverdue.slice(100).sort());
    vi.mocked(DatabaseDO.prototype.maintain).mockRestore();

    // Nothing is due any more; a tick costs one registry query.
    visited = spyVisits();
    t = performance.now();
    const third = await runMaintenanceTick(env, now + 60_000);
    const thirdMs = performance.now() - t;
    expect(visited.filter((n) => n.startsWith('scale-'))).toEqual([]);
    expect(third.due).toBe(visited.length);
    console.info(
      `registry of ${TOTAL} (${DUE} due): inserts ${insertMs.toFixed(0)} ms; tick of 100 (limit) ${firstMs.toFixed(0)} ms, ` +
        `tick of the other ${DUE - 100} (defaults) ${secondMs.toFixed(0)} ms, idle tick ${thirdMs.toFixed(0)} ms`,
    );
  });

  it(`all ${TOTAL} due: a tick takes maxDatabases of them, the registry query stays bounded`, async () => {
    // Locally every visited DO keeps its SQLite files open, and a few thousand exhaust workerd's file
    // descriptors (SQLITE_CANTOPEN), so this visits 1,000, not the default 5,000.
    const now = Date.now();
    await runInDurableObject(env.REGISTRY.getByName('registry'), (registry: RegistryDO) => {
      for (let i = 0; i < TOTAL; i++) registry.setDue(`scale-${String(i).padStart(5, '0')}`, now - 30 * 86_400_000 - i);
    });
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const registry = env.REGISTRY.getByName('registry');
    let t = performance.now();
    const due = await registry.due(now, 10_000);
    const queryMs = performance.now() - t;
    expect(due.filter((n) => n.startsWith('scale-')).length).toBe(TOTAL);
    t = performance.now();
    const summary = await runMaintenanceTick(env, now, { maxDatabases: 1000 });
    const tickMs = performance.now() - t;
    expect(summary).toEqual({ due: 1000, maintained: 0, failed: 0, missing: 1000, actions: 0, actionsFailed: 0, timedOut: 0 });
    expect((await registry.due(now, 10_000)).filter((n) => n.startsWith('scale-')).length).toBe(TOTAL - 1000);
    console.info(
      `all ${TOTAL} due: the due query for all of them ${queryMs.toFixed(0)} ms; a tick of 1,000 DOs (concurrency 32) ${(tickMs / 1000).toFixed(1)} s`,
    );
  });
});
