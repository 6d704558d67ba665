// A database written several times a second is maintained on time: a write never pushes its due time later, so the tick after every boundary finds it and compacts, and retention trims level 0.

import { afterAll, afterEach, expect, it } from 'vitest';
import { buildChain } from '../helpers/chain.ts';
import { MINUTE, clock, forgetInRegistry, listing, push, registryDue, registrySettled, tick } from '../helpers/cron-sim.ts';

const DB = 'busy-writer';
/** A minute boundary, far from the other cron tests' simulated times. */
const START = Date.UTC(2032, 2, 1, 8, 0);
const TICKS = 8;
/** Writes per simulated minute: four a second over the last 2 s before a boundary and the first 500 ms after it. */
const WRITES_AT = [-2_000, -1_750, -1_500, -1_250, -1_000, -750, -500, -250, 0, 100, 200, 300, 400];
/** The cron runs just after its boundary, after the writes above. */
const TICK_AFTER_MS = 500;

afterEach(() => clock.stop());
afterAll(() => forgetInRegistry(DB));

it(`written four times a second around every boundary for ${TICKS} minutes: every tick finds it due, compacts, and retention trims level 0`, async () => {
  const chain = await buildChain({ seed: 1414, count: 1 + TICKS * WRITES_AT.length });
  clock.start(START - 30_000);
  let pushed = 0;
  expect(await push(DB, chain[pushed++])).toBe(201);
  const visits: number[] = [];
  for (let k = 1; k <= TICKS; k++) {
    const boundary = START + (k - 1) * MINUTE;
    for (const dt of WRITES_AT) {
      clock.set(boundary + dt);
      expect(await push(DB, chain[pushed++])).toBe(201);
    }
    await registrySettled(DB, BigInt(pushed));
    // The last writes came after the boundary: the due time they saw was the next boundary, but the
    // one the earlier writes set (this boundary) must stand.
    const due = await registryDue(DB);
    expect({ k, due }).toEqual({ k, due: expect.any(Number) });
    expect(due!).toBeLessThanOrEqual(boundary + TICK_AFTER_MS);
    const summary = await tick(boundary + TICK_AFTER_MS, DB);
    expect(summary.visit, `tick ${k}`).toBeDefined();
    expect(summary.visit!.failed).toBe(false);
    visits.push(summary.visit!.actions);
  }
  // Every tick did something (a level-1 compaction of the minute before, at least).
  expect(
    visits.every((n) => n > 0),
    visits.join(','),
  ).toBe(true);
  const files = await listing(DB);
  const l1 = files.filter((f) => f.level === 1);
  expect(l1.length).toBeGreaterThanOrEqual(TICKS - 1);
  // And the 5-minute level on its boundary inside the run.
  expect(files.filter((f) => f.level === 2).length).toBeGreaterThanOrEqual(1);
  // Level 0 kept only what retention (5 min after a level-1 file covers it, plus the read grace) must keep.
  const l0 = files.filter((f) => f.level === 0);
  expect(l0.length).toBeLessThan(pushed);
  const oldestL0 = l0.map((f) => BigInt('0x' + f.minTXID)).sort((a, b) => (a < b ? -1 : 1))[0];
  expect(oldestL0).toBeGreaterThan(BigInt(WRITES_AT.length));
});
