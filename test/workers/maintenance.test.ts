// The cron end to end: 1,000 pushes over 20 simulated minutes, then ticks every minute for 70 minutes
// through the scheduled handler; after every tick the catalog is the expected one, consistent, the
// compacted files hold exactly their inputs' pages, and reads racing the tick see only 200 or 410.

import { runInDurableObject } from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { DatabaseDO } from '../../src/durable/database.ts';
import type { FileJSON } from '../../src/durable/info.ts';
import { checkLevelConsistency } from '../../src/replication/maintenance.ts';
import { buildChain } from '../helpers/chain.ts';
import { CountingStore } from '../helpers/counting-store.ts';
import {
  AUTH,
  BASE,
  ChainModel,
  MINUTE,
  bucketFiles,
  checkCompactedFile,
  clock,
  entries,
  fileId,
  forgetInRegistry,
  hex,
  listing,
  pagesAt,
  push,
  reachableTXIDs,
  registryDue,
  registrySettled,
  restoreAt,
  tick,
} from '../helpers/cron-sim.ts';
import { prng } from '../helpers/prng.ts';

const FILES = 1000;
const PUSH_MINUTES = 20;
const PER_MINUTE = FILES / PUSH_MINUTES;
const TICKS = 70;
/** 23:00 UTC: ticks at 5-minute multiples compact level 2, the one at +60 m (midnight) level 3 and a snapshot. */
const START = Date.UTC(2031, 0, 1, 23, 0);
const L0_RETENTION = 5 * MINUTE;
const READ_GRACE = MINUTE;

/** When TXID t was pushed: 50 per simulated minute, 1.2 s apart. */
const pushedAt = (t: number) => START + Math.floor((t - 1) / PER_MINUTE) * MINUTE + ((t - 1) % PER_MINUTE) * 1200;

const row = (level: number, min: number, max: number) => `${level}/${hex(min)}-${hex(max)}`;

/**
 * The catalog after tick k under the default levels (1m, 5m, 1h; snapshots every 24h kept 24h; L0
 * kept 5 min and until L1 has covered it for the 60 s read grace), worked out by hand from DESIGN §2.
 */
function expectedCatalog(k: number): string[] {
  const at = START + k * MINUTE;
  const minutes = Math.min(k, PUSH_MINUTES);
  const pushed = minutes * PER_MINUTE;
  const out: string[] = [];
  // Level 0: a suffix of the pushed files; a file goes once it is 5 min old and the L1 file that
  // covers it has existed for the grace period; never the newest.
  let first = 1;
  while (first < pushed) {
    const l1Made = START + Math.ceil(first / PER_MINUTE) * MINUTE;
    if (pushedAt(first) + L0_RETENTION > at || l1Made + READ_GRACE > at) break;
    first++;
  }
  for (let t = first; t <= pushed; t++) out.push(row(0, t, t));
  for (let j = 1; j <= minutes; j++) out.push(row(1, (j - 1) * PER_MINUTE + 1, j * PER_MINUTE));
  for (let j = 1; j <= Math.floor(minutes / 5); j++) out.push(row(2, (j - 1) * 5 * PER_MINUTE + 1, j * 5 * PER_MINUTE));
  if (k >= 60) out.push(row(3, 1, FILES));
  if (k >= 1) out.push(row(9, 1, PER_MINUTE));
  if (k >= 60) out.push(row(9, 1, FILES));
  return out.sort();
}

afterEach(() => clock.stop());
// Later files' ticks must not find this file's databases due (the registry is shared).
afterAll(() => forgetInRegistry('cron-sim', 'admin-compact-due', 'stale-snapshot-plan'));

describe('cron maintenance', () => {
  it('1,000 L0 files pushed over 20 minutes, ticks every minute for 70: L1, L2 at 5-minute boundaries, L3 at the hour, snapshots; every retained TXID restores', async () => {
    const t0 = performance.now();
    const db = 'cron-sim';
    const chain = await buildChain({ seed: 1001, count: FILES });
    const model = new ChainModel(chain);
    const r = prng(77);
    const checked = new Set<string>();
    const problems: string[] = [];
    const visits: { k: number; actions: number }[] = [];
    let racedReads = 0;
    const statuses = { 200: 0, 410: 0 };

    /** Every TXID 1..head through GET …/snapshot: 200 (right bytes) exactly where the listing reaches. */
    const restoreAll = async (files: FileJSON[], head: number): Promise<Set<number>> => {
      const reach = reachableTXIDs(files);
      // Plans cached by the reads that raced earlier ticks may name files retention deleted since:
      // they re-plan (to 200 at another file set, or 410), never a failing body.
      const ok = new Set<number>();
      for (let t = 1; t <= head; t++) {
        const res = await restoreAt(db, t, model);
        if (res.problem) problems.push(res.problem);
        else if (res.status === 200) ok.add(t);
      }
      expect([...ok].sort((a, b) => a - b)).toEqual([...reach].sort((a, b) => a - b));
      return ok;
    };

    clock.start(START);
    // Counts the DO's R2 connections (gets until their body is consumed) over the whole run.
    const counting = await runInDurableObject(env.DATABASE.getByName(db), (instance: DatabaseDO) => {
      const store = new CountingStore(instance.store);
      instance.store = store;
      return store;
    });
    let pushed = 0;
    let before = reachableTXIDs([]);
    for (let k = 1; k <= TICKS; k++) {
      // This minute's pushes, at their simulated times.
      if (k <= PUSH_MINUTES) {
        for (; pushed < k * PER_MINUTE; pushed++) {
          clock.set(pushedAt(pushed + 1));
          expect(await push(db, chain[pushed])).toBe(201);
        }
        await registrySettled(db, BigInt(pushed));
        before = reachableTXIDs(await listing(db));
      }
      // The tick, with reads racing it: the head, and TXIDs restorable just before.
      const held = [...before];
      const pick = () => held[r.int(held.length)];
      clock.set(START + k * MINUTE);
      const [summary, ...reads] = await Promise.all([
        tick(START + k * MINUTE, db),
        pagesAt(db, undefined, model, pushed),
        pagesAt(db, pick(), model, pushed),
        pagesAt(db, pick(), model, pushed),
        restoreAt(db, pick(), model),
      ]);
      racedReads += reads.length;
      for (const read of reads) {
        if (read.problem) problems.push(`tick ${k}: ${read.problem}`);
        statuses[read.status as 200 | 410] = (statuses[read.status as 200 | 410] ?? 0) + 1;
      }
      expect(summary.visit?.failed ?? false, `tick ${k}`).toBe(false);
      expect(summary.visit?.actionsFailed ?? 0, `tick ${k}`).toBe(0);
      if (summary.visit) visits.push({ k, actions: summary.visit.actions });

      const files = await listing(db);
      expect(files.map(fileId).sort(), `catalog after tick ${k}`).toEqual(expectedCatalog(k));
      expect(checkLevelConsistency(entries(files)), `consistency after tick ${k}`).toEqual([]);
      for (const f of files) {
        if (f.level === 0 || checked.has(fileId(f))) continue;
        checked.add(fileId(f));
        expect(f.postApplyChecksum).toBe(hex(chain[parseInt(f.maxTXID, 16) - 1].checksum));
        const problem = await checkCompactedFile(db, f, model);
        if (problem) problems.push(problem);
      }
      before = reachableTXIDs(files);
      if (k === PUSH_MINUTES || k === TICKS) {
        const ok = await restoreAll(files, pushed);
        console.log(`after tick ${k}: ${ok.size} of ${pushed} TXIDs restorable, ${files.length} files`);
        expect(await bucketFiles(db)).toEqual(files.map(fileId).sort());
      }
    }
    expect(problems).toEqual([]);
    // Seen at the end: every level-1 boundary restores, nothing in between (its L0 files are gone).
    expect([...before].sort((a, b) => a - b)).toEqual(Array.from({ length: PUSH_MINUTES }, (_, j) => (j + 1) * PER_MINUTE));
    expect(checked.size).toBe(PUSH_MINUTES + PUSH_MINUTES / 5 + 1 + 2);
    // Compactions and snapshots never hold more R2 connections than a Worker has (6).
    const connections = await runInDurableObject(env.DATABASE.getByName(db), () => counting.counts.maxConnections);
    expect(connections).toBeLessThanOrEqual(6);
    // Once the pushes stop, the cron only comes back when the planner has something to do.
    expect(visits.filter((v) => v.k > PUSH_MINUTES && v.actions === 0)).toEqual([]);
    console.log(
      `visits: ${visits.map((v) => `${v.k}:${v.actions}`).join(' ')}; ${racedReads} reads raced the ticks (${statuses[200]}×200, ${statuses[410]}×410); ` +
        `${checked.size} compacted files checked; at most ${connections} R2 connections at once in the DO; ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
  }, 90_000);
});

describe('admin maintenance routes', () => {
  it('POST …/compact?level=1 plans a year ahead but leaves the database due at a real time', async () => {
    const db = 'admin-compact-due';
    const chain = await buildChain({ seed: 5, count: 10 });
    for (const f of chain) expect(await push(db, f)).toBe(201);
    await registrySettled(db, 10n);
    const res = await exports.default.fetch(`${BASE}/v1/databases/${db}/compact?level=1`, { method: 'POST', headers: AUTH });
    const body = (await res.json()) as { actions: { kind: string; level: number; ok: boolean }[]; nextDue: number };
    expect(res.status).toBe(200);
    expect(body.actions).toEqual([expect.objectContaining({ kind: 'compact', level: 1, ok: true, files: 10 })]);
    // The snapshot (none yet) is due now, L0 retention in 5 minutes: the cron must come back at once,
    // not when the on-demand clock says (a year on).
    expect(body.nextDue).toBeLessThanOrEqual(Date.now());
    expect(await registryDue(db)).toBe(body.nextDue);
  });
});

describe('GET …/snapshot with a stale cached plan', () => {
  // The route checks the plan's files exist before answering, so a plan retention made stale is
  // re-planned (here: the TXID is gone, 410) instead of failing in the middle of a 200 body.
  it('answers 410 for a TXID whose cached plan lost a file to retention', async () => {
    const db = 'stale-snapshot-plan';
    const chain = await buildChain({ seed: 6, count: 20 });
    const model = new ChainModel(chain);
    for (const f of chain) expect(await push(db, f)).toBe(201);
    expect((await restoreAt(db, 5, model)).status).toBe(200); // caches the plan for TXID 5 (L0 files 1..5)
    const stub = env.DATABASE.getByName(db);
    const later = Date.now() + 3_600_000;
    expect((await stub.maintain(db, later, { kind: 'compact', level: 1 })).ok).toBe(true);
    expect((await stub.maintain(db, later, { kind: 'snapshot' })).ok).toBe(true);
    expect((await stub.maintain(db, later, { kind: 'retention' })).ok).toBe(true);
    expect(reachableTXIDs(await listing(db)).has(5)).toBe(false);
    for (let i = 0; i < 2; i++) expect(await restoreAt(db, 5, model)).toEqual({ status: 410 });
  });
});
