// Seeded LTX chains with the database after every TXID (growth without writes, shrinks), stored under ltxKey, and plans over them.

import { DatabaseState, applyLTX } from '../../src/ltx/apply.ts';
import { HEADER_FLAG_NO_CHECKSUM } from '../../src/ltx/constants.ts';
import { encodeLTX } from '../../src/ltx/encoder.ts';
import { type Header, decodeHeader, makeHeader } from '../../src/ltx/header.ts';
import { MemoryDatabase } from '../../src/ltx/memory-database.ts';
import type { ObjectStore } from '../../src/storage/object-store.ts';
import { ltxKey } from '../../src/storage/keys.ts';
import type { PlanFileRef, ReadPlan } from '../../src/replication/plan.ts';
import { prng } from './prng.ts';

export interface ChainStep {
  txid: bigint;
  /** The level-0 file of this TXID. */
  bytes: Uint8Array;
  header: Header;
  /** Pages after this TXID. */
  commit: number;
  /** The true rolling checksum after this TXID. */
  checksum: bigint;
  /** The database file after this TXID: pages 1..commit, never-written pages and the lock page as zeros. */
  db: Uint8Array;
}

export interface RandomChainOptions {
  seed: number;
  count: number;
  pageSize: number;
  /** Files carry checksums (default NoChecksum, as Litestream writes). */
  tracked?: boolean;
  /** Growth leaves some new pages unwritten, and a shrink may be followed by such growth. Default true. */
  gaps?: boolean;
}

/**
 * A snapshot then `count - 1` incrementals that rewrite, grow and shrink the database; with `gaps`,
 * grown pages are written only half the time (they read as zeros), now and then by a jump of 20.
 */
export async function randomChain(opts: RandomChainOptions): Promise<ChainStep[]> {
  const r = prng(opts.seed);
  const { pageSize } = opts;
  const gaps = opts.gaps ?? true;
  const flags = opts.tracked ? 0 : HEADER_FLAG_NO_CHECKSUM;
  const state = new DatabaseState();
  const db = new MemoryDatabase();
  const page = () => (r.int(3) === 0 ? r.bytes(pageSize) : new Uint8Array(pageSize).fill(1 + r.int(255)));
  const out: ChainStep[] = [];
  let commit = 3 + r.int(10);
  for (let i = 0; i < opts.count; i++) {
    const txid = BigInt(i + 1);
    let pgnos: number[];
    if (i === 0) {
      pgnos = Array.from({ length: commit }, (_, k) => k + 1);
    } else {
      const next = Math.max(1, commit + (r.int(8) === 0 ? 20 : r.int(12) - 5));
      const set = new Set<number>();
      for (let p = commit + 1; p <= next; p++) if (!gaps || r.int(2) === 0) set.add(p);
      for (let n = r.int(4); n > 0; n--) set.add(1 + r.int(next));
      if (set.size === 0) set.add(1 + r.int(next));
      pgnos = [...set].sort((a, b) => a - b);
      commit = next;
    }
    const pages = pgnos.map((pgno) => ({ pgno, data: page() }));
    const header = makeHeader({ pageSize, commit, minTXID: txid, maxTXID: txid, timestamp: 1_700_000_000_000 + i, flags });
    let bytes: Uint8Array;
    if (opts.tracked && i > 0) {
      // The post-apply checksum is needed up front: apply a NoChecksum copy first.
      const pre = state.checksum;
      await applyLTX(state, [encodeLTX({ ...header, flags: HEADER_FLAG_NO_CHECKSUM }, pages)], db);
      bytes = encodeLTX({ ...header, preApplyChecksum: pre }, pages, state.checksum);
    } else {
      bytes = encodeLTX(header, pages);
      await applyLTX(state, [bytes], db);
    }
    out.push({ txid, bytes, header: decodeHeader(bytes), commit, checksum: state.checksum, db: db.toBytes() });
  }
  return out;
}

/** Applies files (snapshot first) and records the database after each, like randomChain's steps. */
export async function replayChain(files: readonly Uint8Array[]): Promise<ChainStep[]> {
  const state = new DatabaseState();
  const db = new MemoryDatabase();
  const out: ChainStep[] = [];
  for (const bytes of files) {
    const { header } = await applyLTX(state, [bytes], db);
    out.push({ txid: header.maxTXID, bytes, header, commit: header.commit, checksum: state.checksum, db: db.toBytes() });
  }
  return out;
}

/** Puts one LTX file at its ltxKey and returns its plan reference (commit included). */
export async function putFile(store: ObjectStore, prefix: string, db: string, level: number, bytes: Uint8Array): Promise<PlanFileRef> {
  const h = decodeHeader(bytes.subarray(0, 100));
  await store.put(ltxKey(prefix, db, level, h.minTXID, h.maxTXID), bytes);
  return { level, minTXID: h.minTXID, maxTXID: h.maxTXID, size: bytes.length, commit: h.commit };
}

/** A plan over `files` at the position of `step`. */
export function makePlan(
  db: string,
  files: PlanFileRef[],
  step: Pick<ChainStep, 'txid' | 'commit' | 'checksum'>,
  pageSize: number,
): ReadPlan {
  return { db, txid: step.txid, pageSize, commit: step.commit, checksum: step.checksum, files };
}

/** The plan with no per-file commits (what a planner that does not know them would send). */
export function withoutCommits(plan: ReadPlan): ReadPlan {
  return { ...plan, files: plan.files.map(({ commit: _, ...f }) => f) };
}

/** Page `pgno` of a database file (zeros past its end). */
export function pageOf(db: Uint8Array, pageSize: number, pgno: number): Uint8Array {
  const out = new Uint8Array(pageSize);
  const start = (pgno - 1) * pageSize;
  if (start < db.length) out.set(db.subarray(start, start + pageSize));
  return out;
}

/** Reads a whole stream into one buffer. */
export async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let n = 0;
  const reader = stream.getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    chunks.push(r.value);
    n += r.value.length;
  }
  const out = new Uint8Array(n);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
