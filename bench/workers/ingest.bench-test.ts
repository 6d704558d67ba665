// The `ingest` benchmark, run inside workerd by bench/ingest.ts (vitest.bench.config.ts): our push path
// (POST /v1/databases/:db/ltx through the real Worker and DatabaseDO) against raw R2 writes made from a
// Durable Object, in alternating rounds; a few in-between variants show where the time goes. Prints one
// `BENCH_RESULT {json}` line. Not part of `npm test` (vitest.config.ts only includes test/**).

import { runInDurableObject } from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import { inject, it } from 'vitest';
import { app } from '../../src/app.ts';
import { resolveConfig } from '../../src/config.ts';
import { Catalog } from '../../src/durable/catalog.ts';
import { DatabaseDO } from '../../src/durable/database.ts';
import { type IngestContext, ingestLTX } from '../../src/durable/ingest.ts';
import type { SqlExec } from '../../src/durable/migrate.ts';
import { HEADER_FLAG_NO_CHECKSUM } from '../../src/ltx/constants.ts';
import { encodeLTX } from '../../src/ltx/encoder.ts';
import { makeHeader } from '../../src/ltx/header.ts';
import { ltxKey } from '../../src/storage/keys.ts';
import type { MultipartUpload, ObjectStore } from '../../src/storage/object-store.ts';
import { buildChain } from '../../test/helpers/chain.ts';
import { DEFAULT_INGEST_PARAMS, type IngestBenchParams, type IngestBenchResult, type Split } from '../ingest-result.ts';

declare module 'vitest' {
  // biome-ignore lint/suspicious/noExportsInTest: a module augmentation (vitest's provide/inject types), not an export
  export interface ProvidedContext {
    benchParams: Partial<IngestBenchParams>;
  }
}

const BASE = 'https://ltx-edge.bench';
const AUTH = { authorization: 'Bearer dev-token' };
const PARAMS: IngestBenchParams = { ...DEFAULT_INGEST_PARAMS, ...inject('benchParams') };
const PREFIX = resolveConfig(env).prefix;
/** Everything this run writes to R2 outside our key layout lives under here. */
const RAW = `bench-raw/${crypto.randomUUID()}`;

/** A byte stream over `bytes` in `chunk`-sized pieces (a byte stream, so BYOB readers work on it too). */
function byteStream(bytes: Uint8Array, chunk = 64 * 1024): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    type: 'bytes',
    pull(c) {
      if (at >= bytes.length) {
        c.close();
        return;
      }
      c.enqueue(bytes.slice(at, at + chunk));
      at += chunk;
    },
  });
}

/** POST /v1/databases/:db/ltx. A big body goes as a pull stream (as a streaming client sends it) so nothing buffers it whole up front. */
async function httpPush(db: string, bytes: Uint8Array, streamed = false): Promise<void> {
  // A client with the bytes in hand declares their length (Node's fetch and curl do); workerd's Request does not add it.
  const headers = streamed ? AUTH : { ...AUTH, 'content-length': String(bytes.length) };
  const init = { method: 'POST', headers, body: streamed ? byteStream(bytes) : bytes, duplex: 'half' } as RequestInit;
  const res = await exports.default.fetch(`${BASE}/v1/databases/${db}/ltx`, init);
  const text = await res.text();
  if (res.status !== 201) throw new Error(`push to ${db}: ${res.status} ${text}`);
}

/**
 * Runs `fn` with console.log a no-op. The Worker writes one request log line per request with
 * console.log; under the Vitest pool each call is forwarded to the test runner (≈ 0.4 ms), which
 * production's stdout logging does not pay. The "http-log" variant keeps it, for information.
 */
async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const log = console.log;
  console.log = () => {};
  try {
    return await fn();
  } finally {
    console.log = log;
  }
}

function check(db: string, r: { ok: boolean; status?: number }): void {
  if (!r.ok || r.status !== 201) throw new Error(`push to ${db}: ${JSON.stringify(r)}`);
}

/** Times the calls an ingest makes: R2 (ObjectStore), SQL outside and inside the commit transaction. */
class Meter {
  r2Ms = 0;
  r2Calls = 0;
  sqlMs = 0;
  sqlCalls = 0;
  txnMs = 0;
  private inTxn = false;

  reset(): void {
    this.r2Ms = this.r2Calls = this.sqlMs = this.sqlCalls = this.txnMs = 0;
  }

  store(inner: ObjectStore): ObjectStore {
    const s: ObjectStore = Object.create(inner);
    s.put = (k, b, o) => this.r2(() => inner.put(k, b, o));
    s.head = (k) => this.r2(() => inner.head(k));
    s.get = (k, r) => this.r2(() => inner.get(k, r));
    s.createMultipart = async (k, o) => {
      const up = await this.r2(() => inner.createMultipart(k, o));
      const wrapped: MultipartUpload = {
        key: up.key,
        uploadId: up.uploadId,
        uploadPart: (n, b) => this.r2(() => up.uploadPart(n, b)),
        complete: (p) => this.r2(() => up.complete(p)),
        abort: () => this.r2(() => up.abort()),
      };
      return wrapped;
    };
    return s;
  }

  sql(inner: SqlExec): SqlExec {
    return {
      exec: (q, ...b) => {
        if (this.inTxn) return inner.exec(q, ...b);
        const t = performance.now();
        try {
          return inner.exec(q, ...b);
        } finally {
          this.sqlMs += performance.now() - t;
          this.sqlCalls++;
        }
      },
    };
  }

  transaction(state: DurableObjectState): <T>(fn: () => T) => T {
    return (fn) => {
      const t = performance.now();
      this.inTxn = true;
      try {
        return state.storage.transactionSync(fn);
      } finally {
        this.inTxn = false;
        this.txnMs += performance.now() - t;
      }
    };
  }

  private async r2<T>(fn: () => Promise<T>): Promise<T> {
    const t = performance.now();
    try {
      return await fn();
    } finally {
      this.r2Ms += performance.now() - t;
      this.r2Calls++;
    }
  }

  split(totalMs: number, ops: number): Split {
    return { ops, totalMs, r2Ms: this.r2Ms, r2Calls: this.r2Calls, sqlMs: this.sqlMs, sqlCalls: this.sqlCalls, txnMs: this.txnMs };
  }
}

/** ingestLTX alone (no mutation queue, no registry announce, no transport), with every call it makes timed. */
function meteredContext(inst: DatabaseDO, state: DurableObjectState, name: string, meter: Meter): IngestContext {
  const sql = meter.sql(state.storage.sql);
  return {
    store: meter.store(inst.store),
    catalog: new Catalog(sql),
    sql,
    transaction: meter.transaction(state),
    prefix: PREFIX,
    name,
    now: () => Date.now(),
    retryDelayMs: inst.retryDelayMs,
  };
}

/** Rotates the variants' order each round (ours, raw, … then raw, …, ours) so drift on a shared machine cancels. */
function order<T>(xs: T[], round: number): T[] {
  const k = round % xs.length;
  const rotated = [...xs.slice(k), ...xs.slice(0, k)];
  return round % 2 ? rotated.reverse() : rotated;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// ---------------------------------------------------------------------------------------------

async function smallPushes(): Promise<IngestBenchResult['small']> {
  const { smallWarmup: warmup, smallRounds: rounds, smallPerRound: perRound } = PARAMS;
  const chain = await buildChain({ seed: 4242, count: warmup + rounds * perRound });
  const timed = chain.slice(warmup).map((f) => f.bytes);
  const sizes = timed.map((b) => b.length);
  const meter = new Meter();
  let meteredMs = 0;

  /** Each variant pushes files [from, to) of the chain; `ms` is the time of that loop alone. */
  type Variant = { name: string; run: (from: number, to: number) => Promise<number> };
  const inDO =
    (db: string, body: (inst: DatabaseDO, state: DurableObjectState, i: number) => Promise<void>) => (from: number, to: number) =>
      runInDurableObject(env.DATABASE.getByName(db), async (inst: DatabaseDO, state) => {
        const t = performance.now();
        for (let i = from; i < to; i++) await body(inst, state, i);
        return performance.now() - t;
      });
  const variants: Variant[] = [
    {
      name: 'http',
      run: (from, to) =>
        quietly(async () => {
          const t = performance.now();
          for (let i = from; i < to; i++) await httpPush('bench-small-http', chain[i].bytes);
          return performance.now() - t;
        }),
    },
    {
      name: 'http-log',
      run: async (from, to) => {
        const t = performance.now();
        for (let i = from; i < to; i++) await httpPush('bench-small-log', chain[i].bytes);
        return performance.now() - t;
      },
    },
    {
      name: 'app',
      run: (from, to) =>
        quietly(async () => {
          const t = performance.now();
          for (let i = from; i < to; i++) {
            const res = await app.request(
              `${BASE}/v1/databases/bench-small-app/ltx`,
              { method: 'POST', headers: { ...AUTH, 'content-length': String(chain[i].bytes.length) }, body: chain[i].bytes },
              env,
            );
            const text = await res.text();
            if (res.status !== 201) throw new Error(`push to bench-small-app: ${res.status} ${text}`);
          }
          return performance.now() - t;
        }),
    },
    {
      name: 'rpc',
      run: async (from, to) => {
        const stub = env.DATABASE.getByName('bench-small-rpc');
        const t = performance.now();
        for (let i = from; i < to; i++) check('bench-small-rpc', await stub.ingest('bench-small-rpc', chain[i].bytes));
        return performance.now() - t;
      },
    },
    {
      name: 'do-ingest',
      run: inDO('bench-small-do', async (inst, _s, i) =>
        check('bench-small-do', await inst.ingest('bench-small-do', byteStream(chain[i].bytes))),
      ),
    },
    {
      name: 'ingestLTX',
      run: async (from, to) => {
        const ms = await inDO('bench-small-core', async (inst, state, i) => {
          const ctx = meteredContext(inst, state, 'bench-small-core', meter);
          check('bench-small-core', await ingestLTX(ctx, byteStream(chain[i].bytes)));
        })(from, to);
        if (from >= warmup) meteredMs += ms;
        return ms;
      },
    },
    {
      // The fair floor: what any correct push must do. A hop into the DO with the body as a stream, read
      // whole; the put (create-only, with the timestamp metadata); one SQLite commit of the rows ours
      // commits (a page row per changed page, the position, the file's catalog row).
      name: 'floor',
      run: async (from, to) => {
        const stub = env.DATABASE.getByName('bench-floor');
        const t = performance.now();
        for (let i = from; i < to; i++) {
          const file = chain[i];
          await runInDurableObject(stub, async (_inst, state) => {
            const bytes = new Uint8Array(await new Response(byteStream(file.bytes)).arrayBuffer());
            const put = await env.LTX_BUCKET.put(`${RAW}/floor/${i}`, bytes, {
              onlyIf: { etagDoesNotMatch: '*' },
              customMetadata: { 'litestream-timestamp': new Date(1_700_000_000_000 + i).toISOString() },
            });
            if (!put) throw new Error('floor put refused');
            const sql = state.storage.sql;
            state.storage.transactionSync(() => {
              for (const pgno of file.pgnos) {
                sql.exec(
                  'INSERT OR REPLACE INTO pages (pgno, hi, lo, writer) VALUES (?, ?, ?, ?)',
                  pgno,
                  i,
                  pgno,
                  String(i).padStart(16, '0'),
                );
              }
              sql.exec(
                `INSERT INTO position (id, page_size, commit_pages, txid, checksum, created_at, updated_at, incarnation) VALUES (1, 4096, ?, ?, ?, ?, ?, 'floor')
                 ON CONFLICT (id) DO UPDATE SET commit_pages = excluded.commit_pages, txid = excluded.txid, checksum = excluded.checksum, updated_at = excluded.updated_at`,
                file.commit,
                String(i).padStart(16, '0'),
                String(i).padStart(16, '0'),
                Date.now(),
                Date.now(),
              );
              sql.exec(
                `INSERT OR REPLACE INTO files (level, min_txid, max_txid, size, timestamp, file_checksum, post_apply_checksum, commit_pages, created_at)
                 VALUES (0, ?, ?, ?, ?, ?, ?, ?, ?)`,
                String(i).padStart(16, '0'),
                String(i).padStart(16, '0'),
                bytes.length,
                1_700_000_000_000 + i,
                String(i).padStart(16, '0'),
                String(i).padStart(16, '0'),
                file.commit,
                Date.now(),
              );
            });
          });
        }
        return performance.now() - t;
      },
    },
    {
      name: 'raw-put-sql',
      run: inDO('bench-raw', async (_inst, state, i) => {
        // What ingestLTX does before its put: clear the staging table and stage the page checksums.
        const sql = state.storage.sql;
        sql.exec('DELETE FROM pages_staging');
        for (let p = 1; p <= 3; p++) sql.exec('INSERT INTO pages_staging (pgno, hi, lo) VALUES (?, ?, ?)', p, i, p);
        const put = await env.LTX_BUCKET.put(`${RAW}/small-sql/${i}`, chain[i].bytes, {
          onlyIf: { etagDoesNotMatch: '*' },
          customMetadata: { 'litestream-timestamp': new Date(1_700_000_000_000 + i).toISOString() },
        });
        if (!put) throw new Error('raw put refused');
      }),
    },
    {
      name: 'raw-put-opts',
      run: inDO('bench-raw', async (_inst, _s, i) => {
        const put = await env.LTX_BUCKET.put(`${RAW}/small-opts/${i}`, chain[i].bytes, {
          onlyIf: { etagDoesNotMatch: '*' },
          customMetadata: { 'litestream-timestamp': new Date(1_700_000_000_000 + i).toISOString() },
        });
        if (!put) throw new Error('raw put refused');
      }),
    },
    {
      name: 'raw-put',
      run: inDO('bench-raw', async (_inst, _s, i) => {
        await env.LTX_BUCKET.put(`${RAW}/small/${i}`, chain[i].bytes);
      }),
    },
  ];

  // Warm-up: the snapshot and the first files of the chain, DO creation, JIT.
  for (const v of variants) await v.run(0, warmup);
  meter.reset();
  const roundMs: Record<string, number[]> = Object.fromEntries(variants.map((v) => [v.name, []]));
  for (let r = 0; r < rounds; r++) {
    const from = warmup + r * perRound;
    for (const v of order(variants, r)) roundMs[v.name].push(await v.run(from, from + perRound));
  }
  return {
    files: timed.length,
    rounds,
    perRound,
    warmup,
    bytes: {
      min: Math.min(...sizes),
      median: median(sizes),
      max: Math.max(...sizes),
      mean: sizes.reduce((a, b) => a + b, 0) / sizes.length,
    },
    roundMs,
    split: meter.split(meteredMs, rounds * perRound),
  };
}

// ---------------------------------------------------------------------------------------------

/** A snapshot LTX file of `pages` incompressible 4 KiB pages (seeded xorshift128), NoChecksum as Litestream writes. */
function bigSnapshot(pages: number, pageSize = 4096): Uint8Array {
  const words = new Uint32Array((pages * pageSize) / 4);
  let x = 123456789,
    y = 362436069,
    z = 521288629,
    w = 88675123;
  for (let i = 0; i < words.length; i++) {
    const t = x ^ (x << 11);
    x = y;
    y = z;
    z = w;
    w = (w ^ (w >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
    words[i] = w;
  }
  const data = new Uint8Array(words.buffer);
  const header = makeHeader({
    pageSize,
    commit: pages,
    minTXID: 1n,
    maxTXID: 1n,
    timestamp: 1_700_000_000_000,
    flags: HEADER_FLAG_NO_CHECKSUM,
  });
  return encodeLTX(
    header,
    (function* () {
      for (let p = 0; p < pages; p++) yield { pgno: p + 1, data: data.subarray(p * pageSize, (p + 1) * pageSize) };
    })(),
  );
}

/**
 * Reads the body the way src/durable/ingest.ts could: a BYOB reader filling 1 MiB buffers
 * (readAtLeast), handed on as a byte stream. Only for the "what if" row; null if the body has no BYOB reader.
 */
function byobRechunk(body: ReadableStream<Uint8Array>, size: number): ReadableStream<Uint8Array> | null {
  let reader: ReadableStreamBYOBReader & { readAtLeast?: (min: number, view: Uint8Array) => Promise<ReadableStreamReadResult<Uint8Array>> };
  try {
    reader = body.getReader({ mode: 'byob' });
  } catch {
    return null;
  }
  if (typeof reader.readAtLeast !== 'function') {
    reader.releaseLock();
    return null;
  }
  const readAtLeast = reader.readAtLeast.bind(reader);
  return new ReadableStream({
    type: 'bytes',
    async pull(c) {
      const r = await readAtLeast(size, new Uint8Array(size));
      if (r.value && r.value.length > 0) c.enqueue(r.value);
      if (r.done) c.close();
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

/** Untimed: how the DO receives a pushed body (chunks per read), counted by wrapping DatabaseDO.prototype.ingest. */
async function transportProbe(bytes: Uint8Array): Promise<NonNullable<IngestBenchResult['big']>['transport']> {
  const sizes: number[] = [];
  const proto = DatabaseDO.prototype;
  const ingest = proto.ingest;
  proto.ingest = function (this: DatabaseDO, name: string, body: ReadableStream<Uint8Array>) {
    const counted = body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, c) {
          sizes.push(chunk.length);
          c.enqueue(chunk);
        },
      }),
    );
    return ingest.call(this, name, counted);
  };
  try {
    await httpPush('bench-transport-probe', bytes, true);
  } finally {
    proto.ingest = ingest;
  }
  await env.LTX_BUCKET.delete(ltxKey(PREFIX, 'bench-transport-probe', 0, 1n, 1n));
  return { bytes: bytes.length, reads: sizes.length, maxChunk: Math.max(...sizes), medianChunk: median(sizes) };
}

async function bigPush(): Promise<IngestBenchResult['big']> {
  const { bigMiB, bigRounds: rounds, partMiB } = PARAMS;
  const pageSize = 4096;
  const pages = (bigMiB * 1024 * 1024) / pageSize;
  const bytes = bigSnapshot(pages, pageSize);
  const partSize = partMiB * 1024 * 1024;
  const key = (db: string) => ltxKey(PREFIX, db, 0, 1n, 1n);
  const meter = new Meter();
  let meteredMs = 0;
  let byobSupported: boolean | undefined;

  type Variant = { name: string; run: (round: number) => Promise<{ ms: number; cleanup: () => Promise<void> }> };
  const variants: Variant[] = [
    {
      name: 'http',
      run: async (round) => {
        const db = `bench-big-http-${round}`;
        const t = performance.now();
        await httpPush(db, bytes, true);
        return { ms: performance.now() - t, cleanup: () => env.LTX_BUCKET.delete(key(db)) };
      },
    },
    {
      name: 'http-byob',
      run: async (round) => {
        const db = `bench-big-byob-${round}`;
        const proto = DatabaseDO.prototype;
        const ingest = proto.ingest;
        proto.ingest = function (this: DatabaseDO, name: string, body: ReadableStream<Uint8Array>) {
          const rechunked = byobRechunk(body, 1024 * 1024);
          byobSupported = rechunked !== null;
          return ingest.call(this, name, rechunked ?? body);
        };
        try {
          const t = performance.now();
          await httpPush(db, bytes, true);
          return { ms: performance.now() - t, cleanup: () => env.LTX_BUCKET.delete(key(db)) };
        } finally {
          proto.ingest = ingest;
        }
      },
    },
    {
      name: 'ingestLTX',
      run: async (round) => {
        const db = `bench-big-core-${round}`;
        const ms = await runInDurableObject(env.DATABASE.getByName(db), async (inst: DatabaseDO, state) => {
          const t = performance.now();
          check(db, await ingestLTX(meteredContext(inst, state, db, meter), byteStream(bytes)));
          return performance.now() - t;
        });
        meteredMs += ms;
        return { ms, cleanup: () => env.LTX_BUCKET.delete(key(db)) };
      },
    },
    {
      name: 'raw-multipart',
      run: async (round) => {
        const k = `${RAW}/big-${round}`;
        const ms = await runInDurableObject(env.DATABASE.getByName('bench-raw'), async () => {
          const t = performance.now();
          const up = await env.LTX_BUCKET.createMultipartUpload(k, {
            customMetadata: { 'litestream-timestamp': '2023-11-14T22:13:20.000Z' },
          });
          const parts: R2UploadedPart[] = [];
          for (let at = 0, n = 1; at < bytes.length; at += partSize, n++)
            parts.push(await up.uploadPart(n, bytes.subarray(at, at + partSize)));
          const obj = await up.complete(parts);
          if (obj.size !== bytes.length) throw new Error(`raw multipart: ${obj.size} bytes`);
          return performance.now() - t;
        });
        return { ms, cleanup: () => env.LTX_BUCKET.delete(k) };
      },
    },
  ];

  const mbps: Record<string, number[]> = Object.fromEntries(variants.map((v) => [v.name, []]));
  const windows: NonNullable<IngestBenchResult['big']>['windows'] = [];
  for (let r = 0; r < rounds; r++) {
    for (const v of order(variants, r)) {
      const start = Date.now();
      const { ms, cleanup } = await v.run(r);
      windows.push({ variant: v.name, start, end: Date.now() });
      mbps[v.name].push(bytes.length / 1e6 / (ms / 1000));
      await cleanup();
    }
  }
  const transport = await transportProbe(bigSnapshot(1024, pageSize));
  return {
    bytes: bytes.length,
    transport,
    pages,
    pageSize,
    partSize,
    rounds,
    mbps,
    windows,
    byobSupported: byobSupported ?? false,
    split: meter.split(meteredMs, rounds),
  };
}

it('ingest: our push path vs raw R2 writes from a Durable Object', async () => {
  const started = Date.now();
  const small = PARAMS.small ? await smallPushes() : undefined;
  const big = PARAMS.big ? await bigPush() : undefined;
  const result: IngestBenchResult = { params: PARAMS, small, big, started, ended: Date.now() };
  console.log(`BENCH_RESULT ${JSON.stringify(result)}`);
});
