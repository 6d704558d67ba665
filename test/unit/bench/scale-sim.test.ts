// The scale simulation (bench/scale-sim.ts): the real planner drives it, totals and prices follow from its constants, it is deterministic.
import { describe, expect, it } from 'vitest';
import { type DbDay, simulateDatabase, simulateScale } from '../../../bench/scale-sim.ts';
import { DEFAULT_CLASSES, type DatabaseClass, SCALE_MODEL, readOps, uploadOps } from '../../../bench/scale-sim-classes.ts';
import { DEFAULT_MAX_DATABASE_BYTES } from '../../../src/config.ts';
import { DEFAULT_PART_SIZE } from '../../../src/durable/ltx-upload.ts';
import { DEFAULT_CRON_CONCURRENCY, DEFAULT_CRON_MAX_DATABASES } from '../../../src/durable/registry-maintain.ts';
import { CHUNKED_SNAPSHOT_BYTES, DEFAULT_SNAPSHOT_STEP_MS } from '../../../src/durable/snapshot-job.ts';
import { MAX_REGISTRY_SHARDS } from '../../../src/registry/shard-of.ts';

const MiB = 1024 * 1024;
const byName = (name: string): DatabaseClass => DEFAULT_CLASSES.find((c) => c.name === name)!;
const day = (name: string, warmup = 1, seed = 1): DbDay => simulateDatabase(byName(name), SCALE_MODEL, warmup, seed);

describe('one database over the real planner', () => {
  it('a database nobody writes is never visited and never compacted', () => {
    const d = day('dormant');
    expect(d.pushes).toBe(0);
    expect(d.visits).toBe(0);
    expect(d.compactions.reduce((a, b) => a + b)).toBe(0);
    expect(d.classA + d.classB).toBe(0);
    expect(d.storedBytes).toBeGreaterThan(0); // its snapshot stays
  });

  it('a push every second: 1,440 L1, 288 L2, 24 L3 compactions and 1 snapshot a day, each at its boundary', () => {
    const d = day('busy');
    expect(d.pushes).toBe(86_400);
    expect(d.upserts).toBe(86_400);
    expect(d.visits).toBe(1440);
    expect(d.compactions.slice(1, 4)).toEqual([1440, 288, 24]);
    expect(d.compactions[9]).toBe(1);
    expect(Math.max(...d.maxLagMs)).toBe(0);
    // Every push is one put; every compaction one put too (all small), the snapshot a multipart upload.
    expect(d.classA).toBeGreaterThan(86_400 + 1752);
    expect(d.visitsPerTick.every((v) => v === 1)).toBe(true);
    // Retention keeps the files back to the oldest snapshot: every file written is read once by the next level.
    expect(d.bytesRead).toBeGreaterThan(0.9 * d.bytesWritten);
  });

  it('one write a day compacts L1 every other day (two L0 files make a run), and snapshots once', () => {
    const days = Array.from({ length: 8 }, (_, s) => day('daily', 2 + s, 7));
    const l1 = days.reduce((n, d) => n + d.compactions[1], 0) / days.length;
    expect(l1).toBe(0.5);
    for (const d of days) expect(d.compactions[9]).toBe(1);
  });

  it('the same seed gives the same day', () => {
    expect(day('light', 2, 42)).toEqual(day('light', 2, 42));
    expect(day('light', 2, 42)).not.toEqual(day('light', 2, 43));
  });
});

describe('R2 operations as src/durable/ makes them', () => {
  it('a put up to one part, else create + parts + complete and a head', () => {
    expect(uploadOps(8 * MiB, SCALE_MODEL)).toEqual({ classA: 1, classB: 0 });
    expect(uploadOps(8 * MiB + 1, SCALE_MODEL)).toEqual({ classA: 4, classB: 1 });
    expect(uploadOps(100 * MiB, SCALE_MODEL)).toEqual({ classA: 15, classB: 1 });
  });

  it('up to 4 inputs streamed (2 gets each), more read whole when small', () => {
    expect(readOps([100, 100, 100], SCALE_MODEL)).toBe(6);
    expect(readOps([100, 100, 100, 100, 100], SCALE_MODEL)).toBe(5);
    expect(readOps([100, 100, 100, 100, 5 * MiB], SCALE_MODEL)).toBe(6);
    expect(readOps(Array(9).fill(4 * MiB), SCALE_MODEL)).toBe(18); // over the 32 MiB whole-read budget: all streamed
  });

  it("the model's limits are the code's", () => {
    expect(SCALE_MODEL.cronMaxPerShard).toBe(DEFAULT_CRON_MAX_DATABASES);
    expect(SCALE_MODEL.cronConcurrency).toBe(DEFAULT_CRON_CONCURRENCY);
    expect(SCALE_MODEL.maxShards).toBe(MAX_REGISTRY_SHARDS);
    expect(SCALE_MODEL.partBytes).toBe(DEFAULT_PART_SIZE);
    expect(SCALE_MODEL.maxDatabaseBytes).toBe(DEFAULT_MAX_DATABASE_BYTES);
    expect(SCALE_MODEL.chunkedSnapshotBytes).toBe(CHUNKED_SNAPSHOT_BYTES);
    expect(SCALE_MODEL.snapshotStepMs).toBe(DEFAULT_SNAPSHOT_STEP_MS);
  });
});

describe('scaled to populations', () => {
  const classes = [byName('daily'), byName('light'), byName('busy')];

  it('totals are population × per database, prices are units × the model price', () => {
    const r = simulateScale({ classes, samples: 2 });
    const line = (start: string) => r.costs.find((c) => c.line.startsWith(start))!;
    const classA = r.classes.reduce((n, c) => n + c.cls.population * c.day.classA, 0);
    expect(line('R2 Class A').units).toBeCloseTo(classA, 6);
    expect(line('R2 Class A').usdPerDay).toBeCloseTo((classA * SCALE_MODEL.r2ClassAPerMillion) / 1e6, 6);
    expect(r.databases).toBe(200_000 + 90_000 + 9_000);
    const pushes = r.classes.reduce((n, c) => n + c.cls.population * c.day.pushes, 0);
    expect(r.pushesPerSec).toBeCloseTo(pushes / 86_400, 6);
    const doubled = simulateScale({ classes, samples: 2, model: { r2ClassAPerMillion: 2 * SCALE_MODEL.r2ClassAPerMillion } });
    expect(doubled.usdPerDay - r.usdPerDay).toBeCloseTo(line('R2 Class A').usdPerDay, 6);
    const { simMs: _a, ...a } = r;
    const { simMs: _b, ...b } = simulateScale({ classes, samples: 2 });
    expect(a).toEqual(b);
  });

  it('registry and cron: 16,000 busy databases are 1,000 due per shard per tick at 16 shards, and fill the request budget', () => {
    const r = simulateScale({ classes: [{ ...byName('busy'), population: 16_000 }], shards: [16] });
    const l = r.loads.find((x) => x.shards === 16)!;
    expect(l.due).toBeCloseTo(1000, 6);
    expect(l.duePeak).toBeCloseTo(1000, 6);
    // 1,000 upserts/s + 1,000 setDue a minute + the tick call.
    expect(l.reqPerSec).toBeCloseTo(1000 + 1000 / 60 + 1 / 60, 3);
    expect(r.limits[0].busy).toBeLessThan(16_000);
    expect(r.limits[0].busyBinds).toMatch(/^registry requests/);
  });

  it('the full mix: every class, lag only where capacity runs short, snapshots in steps, in a few seconds', () => {
    const r = simulateScale();
    expect(r.databases).toBe(1_000_000);
    expect(r.simMs).toBeLessThan(15_000);
    const big = r.snapshots.find((s) => s.cls.name === 'large-10GiB')!;
    expect(big.chunked).toBe(true);
    expect(big.steps).toBe(Math.ceil(big.seconds / 20));
    expect(big.inputMB).toBeGreaterThan((10 * 2 ** 30 * SCALE_MODEL.ltxBytesPerPage) / SCALE_MODEL.pageSize / 1e6); // yesterday's snapshot + the day's changes
    const light = r.snapshots.find((s) => s.cls.name === 'light')!;
    expect([light.chunked, light.steps]).toEqual([false, 1]);
    const sixteen = r.loads.find((l) => l.shards === 16)!;
    const needed = r.loads.find((l) => l.shards === r.shardsNeeded)!;
    expect(needed.lagTicks).toBe(0);
    expect(r.shardsNeeded <= 16).toBe(sixteen.lagTicks === 0 && sixteen.reqPerSecPeak <= SCALE_MODEL.doRequestsPerSecond);
  });
});
