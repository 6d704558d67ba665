// The cron over a sharded registry: 10,000 databases spread over the shards; listing merges them complete and in order; ticks visit each due database at the first tick at or after its due time; one failing shard delays only its own; a grown shard count moves entries home.

import { runInDurableObject } from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { runMaintenanceTick } from '../../src/cron.ts';
import { DatabaseDO } from '../../src/durable/database.ts';
import { RegistryDO } from '../../src/durable/registry.ts';
import type { RegistryEntry } from '../../src/durable/registry.ts';
import { registryShard, walkRegistry } from '../../src/registry/registry-shards.ts';
import { shardOf } from '../../src/registry/shard-of.ts';
import { forgetInRegistry } from '../helpers/cron-sim.ts';
import { SHARDS } from '../helpers/registry-shards.ts';

const TOTAL = 10_000;
const BASE = 'https://ltx-edge.test';
const AUTH = { authorization: 'Bearer dev-token' };
const MONTH = 30 * 86_400_000;
const name = (i: number) => `scale-${String(i).padStart(5, '0')}`;
const NAMES = Array.from({ length: TOTAL }, (_, i) => name(i));

afterEach(() => {
  vi.restoreAllMocks();
});
// Rows still due at the end: later files' ticks must not visit them (the registry is shared).
afterAll(() => forgetInRegistry('scale-%'));

/** Names `maintain` was called for, in call order (the DOs run in this isolate). */
function spyVisits(): string[] {
  const visited: string[] = [];
  const maintain = DatabaseDO.prototype.maintain;
  vi.spyOn(DatabaseDO.prototype, 'maintain').mockImplementation(function (this: DatabaseDO, ...args: Parameters<DatabaseDO['maintain']>) {
    visited.push(args[0]);
    return maintain.apply(this, args);
  });
  return visited;
}

/** Runs `fn` in every shard of `shards` (shard index passed), one after the other. */
async function inShards(shards: number, fn: (registry: RegistryDO, index: number, sql: SqlStorage) => void): Promise<void> {
  for (let i = 0; i < shards; i++) await runInDurableObject(registryShard(env, i), (r: RegistryDO, state) => fn(r, i, state.storage.sql));
}

/** Sets `scale-*` due times: `dueOf(i)` (null = idle), each in its home shard. */
async function setDue(dueOf: (i: number) => number | null): Promise<void> {
  await inShards(SHARDS, (r, shard) => {
    NAMES.forEach((n, i) => {
      if (shardOf(n, SHARDS) === shard) r.setDue(n, dueOf(i));
    });
  });
}

const quiet = () => {
  vi.spyOn(console, 'error').mockImplementation(() => undefined);
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
};

describe(`cron over ${SHARDS} registry shards`, () => {
  it(`spreads ${TOTAL} databases over the shards, and lists them complete and in name order`, async () => {
    const now = Date.now();
    const t0 = performance.now();
    const counts: number[] = [];
    await inShards(SHARDS, (r, shard) => {
      const mine = NAMES.filter((n) => shardOf(n, SHARDS) === shard);
      counts.push(mine.length);
      for (const n of mine) {
        r.upsert({
          name: n,
          nextDue: null,
          pos: { txid: '0000000000000001', postApplyChecksum: '0000000000000000' },
          pageSize: 4096,
          size: 4096,
          updatedAt: new Date(now - 86_400_000).toISOString(),
        });
      }
    });
    const insertMs = performance.now() - t0;
    expect(counts.reduce((a, b) => a + b)).toBe(TOTAL);
    // Jump hash is uniform: no shard holds more than 1.5× the fair share, none less than half.
    expect(Math.max(...counts)).toBeLessThan((1.5 * TOTAL) / SHARDS);
    expect(Math.min(...counts)).toBeGreaterThan((0.5 * TOTAL) / SHARDS);

    const listed: string[] = [];
    let pages = 0;
    const t1 = performance.now();
    for (let after = ''; ; pages++) {
      const res = await exports.default.fetch(`${BASE}/v1/databases?prefix=scale-&limit=1000${after ? `&after=${after}` : ''}`, {
        headers: AUTH,
      });
      const body = (await res.json()) as { databases: RegistryEntry[]; next?: string };
      listed.push(...body.databases.map((d) => d.name));
      if (!body.next) break;
      after = body.next;
    }
    const listMs = performance.now() - t1;
    expect(listed).toEqual(NAMES);
    const small = (await (
      await exports.default.fetch(`${BASE}/v1/databases?prefix=scale-0&after=scale-00007&limit=3`, { headers: AUTH })
    ).json()) as {
      databases: RegistryEntry[];
      next?: string;
    };
    expect(small.databases.map((d) => d.name)).toEqual(NAMES.slice(8, 11));
    expect(small.next).toBe(NAMES[10]);
    console.info(
      `${TOTAL} entries over ${SHARDS} shards (${Math.min(...counts)}–${Math.max(...counts)} each): inserts ${insertMs.toFixed(0)} ms; ` +
        `listing in ${pages + 1} pages of 1,000 ${listMs.toFixed(0)} ms`,
    );
  });

  it('each shard visits its own due databases, most overdue first, at most maxDatabases each', async () => {
    const now = Date.now();
    // Every 33rd database is due, a month overdue, the highest index the most overdue.
    const due = new Map<string, number>();
    await setDue((i) => (i % 33 === 0 ? now - MONTH - i * 10 : null));
    for (let i = 0; i < TOTAL; i += 33) due.set(name(i), now - MONTH - i * 10);
    quiet();
    const visited = spyVisits();
    const summary = await runMaintenanceTick(env, now, SHARDS, { maxDatabases: 5 });
    const expected = Array.from({ length: SHARDS }, (_, shard) =>
      [...due]
        .filter(([n]) => shardOf(n, SHARDS) === shard)
        .sort((a, b) => a[1] - b[1])
        .slice(0, 5)
        .map(([n]) => n),
    ).flat();
    // (Databases other test files left due in the shared registry may come first in a shard: none of ours beyond its 5.)
    const ours = visited.filter((n) => n.startsWith('scale-'));
    expect(ours.length).toBeLessThanOrEqual(expected.length);
    for (const n of ours) expect(expected).toContain(n);
    expect(summary).toMatchObject({ shards: SHARDS, shardsFailed: 0, failed: 0, timedOut: 0 });
    expect(summary.due).toBe(visited.length);
    expect(summary.missing).toBe(visited.length); // never written: NOT_FOUND, idled
  });

  it('consecutive ticks visit every due database at the first tick at or after its due time, once', async () => {
    const now = Date.now();
    const minute = 60_000;
    // 800 databases due across five minutes; the rest idle.
    const dueMinute = (i: number): number | null => (i % 12 === 0 && i < 9600 ? (i / 12) % 5 : null);
    await setDue((i) => {
      const m = dueMinute(i);
      return m === null ? null : now + m * minute - 1000;
    });
    quiet();
    const seenAt = new Map<string, number[]>();
    for (let tick = 0; tick < 6; tick++) {
      const visited = spyVisits();
      const summary = await runMaintenanceTick(env, now + tick * minute, SHARDS);
      expect(summary.shardsFailed).toBe(0);
      for (const n of visited.filter((v) => v.startsWith('scale-'))) seenAt.set(n, [...(seenAt.get(n) ?? []), tick]);
      vi.mocked(DatabaseDO.prototype.maintain).mockRestore();
    }
    const expected = new Map(NAMES.flatMap((n, i) => (dueMinute(i) === null ? [] : [[n, [dueMinute(i)!]] as const])));
    expect(expected.size).toBe(800);
    expect(seenAt).toEqual(expected);
  });

  it('a shard that fails delays only its own databases, which the next tick visits', async () => {
    const now = Date.now();
    await setDue((i) => (i % 50 === 0 ? now - MONTH : null));
    const broken = SHARDS > 1 ? 1 : 0;
    const tick = RegistryDO.prototype.tick;
    vi.spyOn(RegistryDO.prototype, 'tick').mockImplementation(function (this: RegistryDO, ...args: Parameters<RegistryDO['tick']>) {
      if (args[0] === broken) throw new Error('injected: shard unavailable');
      return tick.apply(this, args);
    });
    quiet();
    const dueNames = NAMES.filter((_, i) => i % 50 === 0);
    const ofBroken = dueNames.filter((n) => shardOf(n, SHARDS) === broken);
    expect(ofBroken.length).toBeGreaterThan(0);
    let visited = spyVisits();
    const first = await runMaintenanceTick(env, now, SHARDS);
    expect(first.shardsFailed).toBe(1);
    expect(visited.filter((n) => n.startsWith('scale-')).sort()).toEqual(dueNames.filter((n) => !ofBroken.includes(n)));
    vi.mocked(RegistryDO.prototype.tick).mockRestore();
    vi.mocked(DatabaseDO.prototype.maintain).mockRestore();

    visited = spyVisits();
    const second = await runMaintenanceTick(env, now + 60_000, SHARDS);
    expect(second.shardsFailed).toBe(0);
    expect(visited.filter((n) => n.startsWith('scale-')).sort()).toEqual(ofBroken);
  });

  it('grown from N to N + 8 shards, ticks move exactly the entries whose home changed, and listing stays complete', async () => {
    const grown = SHARDS + 8;
    const home = new Map(NAMES.map((n) => [n, shardOf(n, grown)]));
    const moving = NAMES.filter((n) => home.get(n) !== shardOf(n, SHARDS));
    // Jump hash: a name only ever moves to one of the new shards.
    for (const n of moving) expect(home.get(n)).toBeGreaterThanOrEqual(SHARDS);
    quiet();
    let moved = 0;
    for (let tick = 0; tick < 10; tick++) {
      const summary = await runMaintenanceTick(env, Date.now(), grown, { maxDatabases: 1 });
      if (summary.moved === 0) break;
      moved += summary.moved;
    }
    // Other test files' databases move too; ours exactly as planned.
    const placed = new Map<string, number[]>();
    await inShards(grown, (_r, shard, sql) => {
      for (const r of sql.exec("SELECT name FROM databases WHERE name LIKE 'scale-%'")) {
        placed.set(String(r.name), [...(placed.get(String(r.name)) ?? []), shard]);
      }
    });
    expect(moved).toBeGreaterThanOrEqual(moving.length);
    for (const n of NAMES) expect(placed.get(n), n).toEqual([home.get(n)]);
    expect(moving.length / TOTAL).toBeCloseTo(8 / grown, 1);
    const listed: string[] = [];
    for await (const e of walkRegistry(env, grown, '', 'scale-')) listed.push(e.name);
    expect(listed).toEqual(NAMES);

    // Back to N for the files after this one: move every entry of the extra shards home again.
    for (let shard = SHARDS; shard < grown; shard++) {
      const entries = await registryShard(env, shard).list('', 1000);
      for (let after = ''; ; ) {
        const page = await registryShard(env, shard).list(after, 1000);
        if (page.length === 0) break;
        for (const e of page) await registryShard(env, shardOf(e.name, SHARDS)).adopt([e]);
        after = page[page.length - 1].name;
      }
      await runInDurableObject(registryShard(env, shard), (_r: RegistryDO, state) => {
        state.storage.sql.exec('DELETE FROM databases');
      });
      expect(entries.length).toBeGreaterThan(0);
    }
    await inShards(SHARDS, (_r, _shard, sql) => {
      sql.exec("UPDATE meta SET value = ? WHERE key = 'balanced_for'", String(SHARDS));
    });
  });
});
