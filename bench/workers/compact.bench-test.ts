// The `compact` benchmark, run inside workerd by bench/compact.ts (vitest.bench.config.ts): our
// compaction (DatabaseDO.compact over RPC: the mutation queue, then compactFiles — the streamed k-way
// merge into a put or multipart upload and the catalog commit, as the cron's maintain runs it) against
// a plain copy of the same input objects from a DO (get each, put/multipart the concatenation), in
// alternating rounds, for 1,000 small L0 files and for a large snapshot + changes. Prints one
// `COMPACT_BENCH_RESULT {json}` line. Not part of `npm test` (vitest.config.ts only includes test/**).

import { runInDurableObject } from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import { inject, it } from 'vitest';
import { resolveConfig } from '../../src/config.ts';
import type { DatabaseDO } from '../../src/durable/database.ts';
import type { FileJSON } from '../../src/durable/info.ts';
import type { RpcResult } from '../../src/durable/rpc-result.ts';
import { HEADER_FLAG_NO_CHECKSUM } from '../../src/ltx/constants.ts';
import { LTXEncoder, encodeLTX } from '../../src/ltx/encoder.ts';
import { makeHeader } from '../../src/ltx/header.ts';
import { ltxKey } from '../../src/storage/keys.ts';
import { buildChain } from '../../test/helpers/chain.ts';
import { type CompactBenchParams, type CompactBenchResult, type CompactCase, DEFAULT_COMPACT_PARAMS } from '../compact-result.ts';

const BASE = 'https://ltx-edge.bench';
const AUTH = { authorization: 'Bearer dev-token' };
const PARAMS: CompactBenchParams = { ...DEFAULT_COMPACT_PARAMS, ...(inject('benchParams') as unknown as Partial<CompactBenchParams>) };
const PREFIX = resolveConfig(env).prefix;
/** The raw copies go here, outside our key layout. */
const RAW = `bench-raw/${crypto.randomUUID()}`;
const PAGE_SIZE = 4096;
/** Part size of the raw copy's multipart upload: the same as ours (DEFAULT_PART_SIZE). */
const PART_SIZE = 8 * 1024 * 1024;

/** Seeded xorshift128: incompressible page contents, fast (4 bytes per step). */
function xorshift(seed: number): (out: Uint8Array) => Uint8Array {
  let x = 123456789 ^ seed;
  let y = 362436069;
  let z = 521288629;
  let w = 88675123;
  return (out) => {
    const words = new Uint32Array(out.buffer, out.byteOffset, out.length >>> 2);
    for (let i = 0; i < words.length; i++) {
      const t = x ^ (x << 11);
      x = y;
      y = z;
      z = w;
      w = (w ^ (w >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
      words[i] = w;
    }
    return out;
  };
}

/** POST …/ltx with a body (a stream goes as a pull stream, so nothing holds the whole file). */
async function push(db: string, body: Uint8Array | ReadableStream<Uint8Array>): Promise<void> {
  const res = await exports.default.fetch(`${BASE}/v1/databases/${db}/ltx`, {
    method: 'POST',
    headers: AUTH,
    body,
    duplex: 'half',
  } as RequestInit);
  const text = await res.text();
  if (res.status !== 201) throw new Error(`push to ${db}: ${res.status} ${text}`);
}

/** A snapshot LTX file of `pages` incompressible pages, encoded as it is read (NoChecksum). */
function snapshotStream(pages: number, seed: number): { body: ReadableStream<Uint8Array>; size: () => number } {
  const fill = xorshift(seed);
  const enc = new LTXEncoder(
    makeHeader({
      pageSize: PAGE_SIZE,
      commit: pages,
      minTXID: 1n,
      maxTXID: 1n,
      timestamp: 1_700_000_000_000,
      flags: HEADER_FLAG_NO_CHECKSUM,
    }),
  );
  const page = new Uint8Array(PAGE_SIZE);
  let next = 0;
  let size = 0;
  let done = false;
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      if (done) {
        c.close();
        return;
      }
      const out: Uint8Array[] = [];
      if (next === 0) out.push(enc.start());
      for (let k = 0; k < 64 && next < pages; k++) out.push(enc.encodePage(++next, fill(page)));
      if (next === pages) {
        out.push(enc.finish());
        done = true;
      }
      const chunk = new Uint8Array(out.reduce((a, b) => a + b.length, 0));
      let at = 0;
      for (const b of out) {
        chunk.set(b, at);
        at += b.length;
      }
      size += chunk.length;
      c.enqueue(chunk);
    },
  });
  return { body, size: () => size };
}

/** Our path: DatabaseDO.compact over RPC into level 1. */
async function ours(db: string, maxTXID: bigint): Promise<{ ms: number; outputBytes: number }> {
  const stub = env.DATABASE.getByName(db);
  const t = performance.now();
  const r = (await stub.compact(db, { level: 1, minTXID: 1n, maxTXID })) as RpcResult<{ file: FileJSON; inputs: number }>;
  const ms = performance.now() - t;
  if (!r.ok) throw new Error(`compact ${db}: ${r.error.code} ${r.error.message}`);
  return { ms, outputBytes: r.value.file.size };
}

/** Untimed: forget our output (catalog row and object) so the next round compacts the same inputs. */
async function dropOutput(db: string, maxTXID: bigint): Promise<void> {
  await runInDurableObject(env.DATABASE.getByName(db), async (inst: DatabaseDO) => {
    inst.catalog.deleteFile(1, 1n, maxTXID);
    await inst.store.delete(ltxKey(PREFIX, db, 1, 1n, maxTXID));
  });
}

/**
 * The baseline, in a DO: get every input in order and stream its bytes into one object (a put when
 * it fits one part, else a multipart upload with PART_SIZE parts). `write: false` only reads.
 */
async function rawCopy(keys: string[], dest: string, write: boolean): Promise<{ ms: number; bytes: number }> {
  return runInDurableObject(env.DATABASE.getByName('bench-compact-raw'), async () => {
    const t = performance.now();
    let buf = new Uint8Array(PART_SIZE);
    let filled = 0;
    let total = 0;
    let upload: R2MultipartUpload | undefined;
    const parts: R2UploadedPart[] = [];
    const flush = async () => {
      upload ??= await env.LTX_BUCKET.createMultipartUpload(dest);
      parts.push(await upload.uploadPart(parts.length + 1, buf.subarray(0, filled)));
      buf = new Uint8Array(PART_SIZE);
      filled = 0;
    };
    for (const key of keys) {
      const obj = await env.LTX_BUCKET.get(key);
      if (!obj) throw new Error(`raw copy: ${key} is missing`);
      const reader = obj.body.getReader();
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        total += r.value.length;
        if (!write) continue;
        for (let v = r.value; v.length > 0; ) {
          const n = Math.min(v.length, PART_SIZE - filled);
          buf.set(v.subarray(0, n), filled);
          filled += n;
          v = v.subarray(n);
          if (filled === PART_SIZE) await flush();
        }
      }
    }
    if (write) {
      if (!upload) await env.LTX_BUCKET.put(dest, buf.subarray(0, filled));
      else {
        if (filled > 0) await flush();
        await upload.complete(parts);
      }
    }
    return { ms: performance.now() - t, bytes: total };
  });
}

/** Rotates the variants' order each round so drift on a shared machine lands on all of them. */
function order<T>(xs: T[], round: number): T[] {
  const k = round % xs.length;
  const rotated = [...xs.slice(k), ...xs.slice(0, k)];
  return round % 2 ? rotated.reverse() : rotated;
}

/** Measures `rounds` rounds of ours, the raw copy and the raw read over the files [1, maxTXID] of `db`. */
async function measure(
  db: string,
  maxTXID: bigint,
  rounds: number,
  setup: Omit<CompactCase, 'ms' | 'windows' | 'outputBytes' | 'rounds'>,
): Promise<CompactCase> {
  const keys = Array.from({ length: Number(maxTXID) }, (_, i) => ltxKey(PREFIX, db, 0, BigInt(i + 1), BigInt(i + 1)));
  const ms: Record<string, number[]> = { ours: [], 'raw-copy': [], 'raw-read': [] };
  const windows: CompactCase['windows'] = [];
  let outputBytes = 0;
  const variants: { name: string; run: (round: number) => Promise<number>; cleanup: (round: number) => Promise<void> }[] = [
    {
      name: 'ours',
      run: async () => {
        const r = await ours(db, maxTXID);
        outputBytes = r.outputBytes;
        return r.ms;
      },
      cleanup: () => dropOutput(db, maxTXID),
    },
    {
      name: 'raw-copy',
      run: async (round) => {
        const r = await rawCopy(keys, `${RAW}/${db}-${round}`, true);
        if (r.bytes !== setup.inputBytes) throw new Error(`raw copy read ${r.bytes} bytes, the inputs hold ${setup.inputBytes}`);
        return r.ms;
      },
      cleanup: (round) => env.LTX_BUCKET.delete(`${RAW}/${db}-${round}`),
    },
    { name: 'raw-read', run: async () => (await rawCopy(keys, '', false)).ms, cleanup: async () => undefined },
  ];
  for (let round = 0; round < rounds; round++) {
    for (const v of order(variants, round)) {
      const start = Date.now();
      ms[v.name].push(await v.run(round));
      windows.push({ variant: v.name, start, end: Date.now() });
      await v.cleanup(round);
    }
  }
  return { ...setup, outputBytes, rounds, ms, windows };
}

async function smallFiles(): Promise<CompactCase> {
  const t = performance.now();
  const db = 'bench-compact-small';
  const chain = await buildChain({ seed: 4242, count: PARAMS.smallFiles });
  for (const f of chain) await push(db, f.bytes);
  const info = (await (await exports.default.fetch(`${BASE}/v1/databases/${db}`, { headers: AUTH })).json()) as { commit: number };
  const setup = {
    files: chain.length,
    inputBytes: chain.reduce((n, f) => n + f.bytes.length, 0),
    pages: info.commit,
    pageSize: PAGE_SIZE,
    setupMs: performance.now() - t,
  };
  return measure(db, BigInt(chain.length), PARAMS.smallRounds, setup);
}

async function bigDatabase(): Promise<CompactCase> {
  const t = performance.now();
  const db = 'bench-compact-big';
  const pages = (PARAMS.bigMiB * 1024 * 1024) / PAGE_SIZE;
  const snap = snapshotStream(pages, 1);
  await push(db, snap.body);
  let inputBytes = snap.size();
  const fill = xorshift(2);
  let seed = 7;
  const rand = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  for (let i = 0; i < PARAMS.bigChanges; i++) {
    const txid = BigInt(i + 2);
    const pgnos = new Set<number>();
    for (let n = 1 + rand(PARAMS.bigChangePages); pgnos.size < n; ) pgnos.add(1 + rand(pages));
    const header = makeHeader({
      pageSize: PAGE_SIZE,
      commit: pages,
      minTXID: txid,
      maxTXID: txid,
      timestamp: 1_700_000_000_000 + i + 1,
      flags: HEADER_FLAG_NO_CHECKSUM,
    });
    const bytes = encodeLTX(
      header,
      [...pgnos].sort((a, b) => a - b).map((pgno) => ({ pgno, data: fill(new Uint8Array(PAGE_SIZE)) })),
    );
    await push(db, bytes);
    inputBytes += bytes.length;
  }
  const setup = { files: PARAMS.bigChanges + 1, inputBytes, pages, pageSize: PAGE_SIZE, setupMs: performance.now() - t };
  return measure(db, BigInt(PARAMS.bigChanges + 1), PARAMS.bigRounds, setup);
}

it('compact: our compaction vs a plain R2 copy of the same objects from a DO', async () => {
  const started = Date.now();
  const small = PARAMS.small ? await smallFiles() : undefined;
  const big = PARAMS.big ? await bigDatabase() : undefined;
  const result: CompactBenchResult = { params: PARAMS, small, big, started, ended: Date.now() };
  console.log(`COMPACT_BENCH_RESULT ${JSON.stringify(result)}`);
});
