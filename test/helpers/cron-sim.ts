// Workers-test helpers for simulated cron runs: one fake clock for the test and the DOs, pushes at
// chosen times, ticks through the scheduled handler, the catalog listing and the bucket, and an
// independent model of every state of a chain.

import { createExecutionContext, createScheduledController, runInDurableObject, waitOnExecutionContext } from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import { vi } from 'vitest';
import type { CronSummary } from '../../src/cron.ts';
import type { FileJSON } from '../../src/durable/info.ts';
import { DatabaseDO } from '../../src/durable/database.ts';
import type { RegistryDO } from '../../src/durable/registry.ts';
import worker from '../../src/index.ts';
import { decodeLTX } from '../../src/ltx/index.ts';
import { decodePageBatch } from '../../src/replication/page-batch.ts';
import type { CatalogEntry } from '../../src/replication/maintenance.ts';
import { parseLtxKey } from '../../src/storage/keys.ts';
import type { ChainFile } from './chain.ts';
import { allShards, homeOf } from './registry-shards.ts';

export const BASE = 'https://ltx-edge.test';
export const AUTH = { authorization: 'Bearer dev-token' };
export const MINUTE = 60_000;

export const hex = (n: bigint | number): string => BigInt(n).toString(16).padStart(16, '0');

/**
 * The simulated clock. Workers tests run the DOs in the test's own isolate, so faking `Date` moves
 * the DO's clock too: files get the simulated `createdAt`, and the cron's `scheduledTime` agrees with
 * it (as in production, where the cron runs just after its boundary on the same wall clock).
 */
export const clock = {
  start(t: number): void {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(t);
  },
  set(t: number): void {
    vi.setSystemTime(t);
  },
  stop(): void {
    vi.useRealTimers();
  },
};

/** What one tick did to one database (the tick's summary counts every database in the registry). */
export interface DatabaseVisit {
  /** maintain() threw, or answered an error. */
  failed: boolean;
  actions: number;
  actionsFailed: number;
}

/**
 * One cron tick at `at` through the Worker's scheduled handler; returns the summary it logged and,
 * for `db`, what its DO's maintain() answered (undefined: not visited). Workers test files share one
 * registry, so other files' databases may be due too: judge a database by its own visit.
 */
export async function tick(at: number, db?: string): Promise<CronSummary & { visit?: DatabaseVisit }> {
  clock.set(at);
  const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  let visit: Promise<DatabaseVisit> | undefined;
  const maintain = DatabaseDO.prototype.maintain;
  const spy = vi.spyOn(DatabaseDO.prototype, 'maintain').mockImplementation(function (
    this: DatabaseDO,
    ...args: Parameters<DatabaseDO['maintain']>
  ) {
    const answer = maintain.apply(this, args);
    if (args[0] === db) {
      visit = answer.then(
        (r) =>
          r.ok
            ? { failed: false, actions: r.value.actions.length, actionsFailed: r.value.actions.filter((a) => !a.ok).length }
            : { failed: true, actions: 0, actionsFailed: 0 },
        () => ({ failed: true, actions: 0, actionsFailed: 0 }),
      );
    }
    return answer;
  });
  try {
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ cron: '* * * * *', scheduledTime: at }), env, ctx);
    await waitOnExecutionContext(ctx);
    const line = log.mock.calls.map((c) => String(c[0])).find((l) => l.startsWith('ltx-edge scheduled:'));
    if (!line) throw new Error('the scheduled handler logged no summary');
    return { ...(JSON.parse(line.slice(line.indexOf(': {') + 2)) as CronSummary), visit: await visit };
  } finally {
    spy.mockRestore();
    log.mockRestore();
  }
}

/** Removes a file's databases from the shared registry (names LIKE any of `patterns`), so later files' ticks skip them. */
export function forgetInRegistry(...patterns: string[]): Promise<void> {
  return Promise.all(
    allShards().map((shard) =>
      runInDurableObject(shard, (_r: RegistryDO, state) => {
        for (const p of patterns) state.storage.sql.exec('DELETE FROM databases WHERE name LIKE ?', p);
      }),
    ),
  ).then(() => undefined);
}

/** POST …/ltx; returns the status (the body is drained). */
export async function push(db: string, f: ChainFile): Promise<number> {
  const res = await exports.default.fetch(`${BASE}/v1/databases/${db}/ltx`, { method: 'POST', headers: AUTH, body: f.bytes });
  await res.arrayBuffer();
  return res.status;
}

/** Waits until the registry's row for `db` shows `txid` (the DO announces its head without awaiting). */
export async function registrySettled(db: string, txid: bigint): Promise<void> {
  const registry = homeOf(db);
  for (let i = 0; i < 500; i++) {
    const rows = await registry.list(db.slice(0, -1), 1000);
    if (rows.find((r) => r.name === db)?.pos.txid === hex(txid)) return;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`the registry never saw ${db} at ${hex(txid)}`);
}

/** The registry's next_due for `db` (ms, or null when idle). */
export function registryDue(db: string): Promise<number | null> {
  return runInDurableObject(homeOf(db), (_r: RegistryDO, state) => {
    const row = state.storage.sql.exec('SELECT next_due FROM databases WHERE name = ?', db).toArray()[0];
    return row?.next_due === null || row?.next_due === undefined ? null : Number(row.next_due);
  });
}

/** The whole catalog through GET …/ltx, level by level, paging with `after`. */
export async function listing(db: string): Promise<FileJSON[]> {
  const out: FileJSON[] = [];
  for (let level = 0; level <= 9; level++) {
    let after = 0n;
    for (;;) {
      const res = await exports.default.fetch(`${BASE}/v1/databases/${db}/ltx?level=${level}&after=${hex(after)}&limit=1000`, {
        headers: AUTH,
      });
      if (res.status !== 200) throw new Error(`listing ${db} level ${level}: ${res.status} ${await res.text()}`);
      const { files } = (await res.json()) as { files: FileJSON[] };
      out.push(...files);
      if (files.length < 1000) break;
      after = BigInt('0x' + files[files.length - 1].minTXID);
    }
  }
  return out;
}

/** Catalog rows as the pure planner's entries (the listing carries no createdAt; consistency ignores it). */
export function entries(files: readonly FileJSON[]): CatalogEntry[] {
  return files.map((f) => ({
    level: f.level,
    minTXID: BigInt('0x' + f.minTXID),
    maxTXID: BigInt('0x' + f.maxTXID),
    size: f.size,
    timestamp: Date.parse(f.timestamp),
    createdAt: 0,
  }));
}

/** `level/min-max` for a listing row or a parsed key. */
export function fileId(f: { level: number; minTXID: string | bigint; maxTXID: string | bigint }): string {
  const h = (v: string | bigint) => (typeof v === 'string' ? v : hex(v));
  return `${f.level}/${h(f.minTXID)}-${h(f.maxTXID)}`;
}

/** Every object under `db/<db>/` in the bucket, as file ids (throws on a key outside the layout). */
export async function bucketFiles(db: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await env.LTX_BUCKET.list({ prefix: `db/${db}/`, cursor });
    for (const o of page.objects) {
      const k = parseLtxKey(o.key, 'db');
      if (!k) throw new Error(`a key outside the layout: ${o.key}`);
      ids.push(fileId(k));
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return ids.sort();
}

/**
 * The TXIDs some chain of the listed files rebuilds exactly, computed here independently of the
 * server's planner: a file [min, max] continues a reachable state r when min ≤ r+1 ≤ max (MinTXID 1
 * starts from the empty database).
 */
export function reachableTXIDs(files: readonly FileJSON[]): Set<number> {
  const fs = files.map((f) => ({ min: parseInt(f.minTXID, 16), max: parseInt(f.maxTXID, 16) })).sort((a, b) => a.max - b.max);
  const reach = new Set<number>([0]);
  const sorted: number[] = [0];
  for (const f of fs) {
    if (reach.has(f.max)) continue;
    // Any reachable r in [min-1, max-1]? `sorted` holds every reachable TXID below f.max.
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid] < f.min - 1) lo = mid + 1;
      else hi = mid;
    }
    if (lo < sorted.length && sorted[lo] <= f.max - 1) {
      reach.add(f.max);
      sorted.push(f.max); // files come in MaxTXID order, so this stays sorted
    }
  }
  reach.delete(0);
  return reach;
}

const ZERO = new Uint8Array(0);

/**
 * Every state of a chain as page arrays (index = TXID, 0 = empty), built by decoding the pushed files
 * and applying them by hand; unchanged pages are shared between states, so 1,000 states cost little.
 */
export class ChainModel {
  readonly pageSize: number;
  readonly states: Uint8Array[][] = [[]];
  private readonly zero: Uint8Array;

  constructor(chain: readonly ChainFile[], pageSize = 4096) {
    this.pageSize = pageSize;
    this.zero = new Uint8Array(pageSize);
    for (const f of chain) this.states.push(this.apply(this.states[this.states.length - 1], f.bytes));
  }

  /** `base` with the file's pages written and its commit applied (growth fills zeros). */
  apply(base: readonly Uint8Array[], ltx: Uint8Array): Uint8Array[] {
    const d = decodeLTX(ltx);
    const next = base.slice(0, d.header.commit);
    while (next.length < d.header.commit) next.push(this.zero);
    for (const p of d.pages) if (p.pgno <= d.header.commit) next[p.pgno - 1] = p.data.slice();
    return next;
  }

  /** The first page number where `pages` differs from the state at `txid`, or 0 when equal. */
  diff(txid: number, pages: readonly Uint8Array[]): number {
    const want = this.states[txid];
    if (pages.length !== want.length) return -1;
    for (let i = 0; i < want.length; i++) if (!sameBytes(pages[i] ?? ZERO, want[i])) return i + 1;
    return 0;
  }

  /** True when `bytes` is the database file at `txid` (pages 1..commit). */
  isFileAt(txid: number, bytes: Uint8Array): boolean {
    const want = this.states[txid];
    if (bytes.length !== want.length * this.pageSize) return false;
    for (let i = 0; i < want.length; i++) if (!sameBytes(bytes.subarray(i * this.pageSize, (i + 1) * this.pageSize), want[i])) return false;
    return true;
  }
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Fetches a compacted file through GET …/ltx/:level/:file and checks it against the model: its header
 * range and commit, and the pages of applying it on top of the state at MinTXID-1 equal the state
 * at MaxTXID. Returns a problem description, or null.
 */
export async function checkCompactedFile(db: string, f: FileJSON, model: ChainModel): Promise<string | null> {
  const res = await exports.default.fetch(`${BASE}/v1/databases/${db}/ltx/${f.level}/${f.minTXID}-${f.maxTXID}.ltx`, { headers: AUTH });
  if (res.status !== 200) return `${fileId(f)}: GET answered ${res.status}`;
  const bytes = new Uint8Array(await res.arrayBuffer());
  const min = parseInt(f.minTXID, 16);
  const max = parseInt(f.maxTXID, 16);
  const d = decodeLTX(bytes);
  if (d.header.minTXID !== BigInt(min) || d.header.maxTXID !== BigInt(max))
    return `${fileId(f)}: header says ${d.header.minTXID}-${d.header.maxTXID}`;
  if (d.header.commit !== model.states[max].length) return `${fileId(f)}: commit ${d.header.commit}, expected ${model.states[max].length}`;
  const applied = model.apply(model.states[min - 1], bytes);
  const at = model.diff(max, applied);
  return at === 0 ? null : `${fileId(f)}: applied on the state at ${min - 1}, page ${at} differs from the state at ${max}`;
}

/** GET …/snapshot?txid= : 200 with the model's bytes, or 410 — anything else is a problem (returned). */
export async function restoreAt(db: string, txid: number, model: ChainModel): Promise<{ status: number; problem?: string }> {
  const res = await exports.default.fetch(`${BASE}/v1/databases/${db}/snapshot?txid=${hex(txid)}`, { headers: AUTH });
  if (res.status !== 200) {
    const text = await res.text();
    return res.status === 410 ? { status: 410 } : { status: res.status, problem: `restore ${txid}: ${res.status} ${text.slice(0, 200)}` };
  }
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await res.arrayBuffer());
  } catch (e) {
    return { status: 200, problem: `restore ${txid}: the body failed: ${String(e)}` };
  }
  return model.isFileAt(txid, bytes) ? { status: 200 } : { status: 200, problem: `restore ${txid}: bytes differ from the model` };
}

/** GET …/pages?pgno=1-N at `txid` (head when undefined): 200 with the model's pages, or 410. */
export async function pagesAt(
  db: string,
  txid: number | undefined,
  model: ChainModel,
  head: number,
): Promise<{ status: number; problem?: string }> {
  const at = txid ?? head;
  const q = txid === undefined ? '' : `&txid=${hex(txid)}`;
  const res = await exports.default.fetch(`${BASE}/v1/databases/${db}/pages?pgno=1-${model.states[at].length}${q}`, { headers: AUTH });
  if (res.status !== 200) {
    const text = await res.text();
    return res.status === 410 ? { status: 410 } : { status: res.status, problem: `pages at ${at}: ${res.status} ${text.slice(0, 200)}` };
  }
  let buf: Uint8Array;
  try {
    buf = new Uint8Array(await res.arrayBuffer());
  } catch (e) {
    return { status: 200, problem: `pages at ${at}: the body failed: ${String(e)}` };
  }
  const batch = decodePageBatch(buf, model.pageSize);
  if (!batch.ok) return { status: 200, problem: `pages at ${at}: ${batch.message}` };
  const diff = model.diff(
    at,
    batch.pages.map((p) => p.data),
  );
  return diff === 0 ? { status: 200 } : { status: 200, problem: `pages at ${at}: page ${diff} differs` };
}
