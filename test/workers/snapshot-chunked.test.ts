// Chunked snapshots: a database at its size cap snapshotted over several steps with bounded buffers, and a crash at every step still ending with the right file and nothing orphaned.

import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { DatabaseDO } from '../../src/durable/database.ts';
import type { ActionJSON } from '../../src/durable/maintain.ts';
import type { StepLimits } from '../../src/durable/snapshot-job.ts';
import { HEADER_FLAG_NO_CHECKSUM, decodeLTX, encodeLTX, makeHeader } from '../../src/ltx/index.ts';
import { ltxKey } from '../../src/storage/keys.ts';
import { MemoryObjectStore } from '../../src/storage/memory-store.ts';
import type { MultipartUpload, ObjectStore } from '../../src/storage/object-store.ts';
import { prng } from '../helpers/prng.ts';
import { withOverrides } from '../helpers/store-overrides.ts';

const BASE = 'https://ltx-edge.test';
const AUTH = { authorization: 'Bearer dev-token' };
const PS = 4096;
const DAY = 86_400_000;

/** Four files (a snapshot, changes, a shrink, a regrowth that leaves zeros) and the database they make. */
function history(pages: number, seed: number): { files: Uint8Array[]; expected: Map<number, Uint8Array> } {
  const r = prng(seed);
  const db = new Map<number, Uint8Array>();
  const files: Uint8Array[] = [];
  const write = (txid: number, commit: number, pgnos: number[]) => {
    for (const p of [...db.keys()]) if (p > commit) db.delete(p);
    const set = [...new Set(pgnos)].sort((a, b) => a - b).map((pgno) => ({ pgno, data: r.bytes(PS) }));
    for (const p of set) db.set(p.pgno, p.data);
    const header = makeHeader({
      pageSize: PS,
      commit,
      minTXID: BigInt(txid),
      maxTXID: BigInt(txid),
      timestamp: 1_700_000_000_000 + txid,
      flags: HEADER_FLAG_NO_CHECKSUM,
    });
    files.push(encodeLTX(header, set));
  };
  const any = (n: number, below: number) => Array.from({ length: n }, () => 1 + r.int(below));
  write(
    1,
    pages,
    Array.from({ length: pages }, (_, i) => i + 1),
  );
  write(2, pages, any(50, pages));
  write(3, pages - 40, any(10, pages - 40));
  write(4, pages, [...Array.from({ length: 10 }, (_, i) => pages - 39 + i), ...any(5, pages - 40)]);
  const expected = new Map<number, Uint8Array>();
  for (let p = 1; p <= pages; p++) expected.set(p, db.get(p) ?? new Uint8Array(PS));
  return { files, expected };
}

async function push(db: string, files: Uint8Array[]): Promise<void> {
  for (const f of files) {
    const res = await exports.default.fetch(`${BASE}/v1/databases/${db}/ltx`, { method: 'POST', headers: AUTH, body: f });
    expect(res.status, await res.text()).toBe(201);
  }
}

/** `db`'s DO on `store`, snapshotting in steps from 64 KiB on with these bounds; steps only when the test asks (no timer). */
function inSteps(db: string, store: ObjectStore, limits: StepLimits): Promise<void> {
  return runInDurableObject(env.DATABASE.getByName(db), (i: DatabaseDO) => {
    i.store = store;
    i.chunkedSnapshotBytes = 64 * 1024;
    i.snapshotLimits = limits;
    i.snapshotPauseMs = 3_600_000;
    i.retryDelayMs = 0;
  });
}

/** One maintenance pass limited to the snapshot; its last snapshot action's report (a job that started over is followed by the new one). */
async function snapshotPass(db: string): Promise<ActionJSON | undefined> {
  const r = await runInDurableObject(env.DATABASE.getByName(db), (i: DatabaseDO) =>
    i.maintain(db, Date.now() + 2 * DAY, { kind: 'snapshot' }),
  );
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.value.actions.findLast((a) => a.kind === 'snapshot');
}

/** The level-9 file decodes, verified, to exactly the expected database. */
function expectSnapshot(bytes: Uint8Array, expected: Map<number, Uint8Array>, head: bigint): void {
  const decoded = decodeLTX(bytes);
  expect(decoded.header).toMatchObject({ minTXID: 1n, maxTXID: head, commit: expected.size, pageSize: PS });
  expect(decoded.pages.map((p) => p.pgno)).toEqual([...expected.keys()]);
  for (const p of decoded.pages) expect(p.data, `page ${p.pgno}`).toEqual(expected.get(p.pgno));
}

describe('chunked snapshots', () => {
  it('snapshots a database at its size cap in several steps, each holding at most a part and a page', async () => {
    const db = 'chunked-at-cap';
    const pages = 4096; // 16 MiB of incompressible pages: the cap below, exactly
    await runInDurableObject(env.DATABASE.getByName(db), (i: DatabaseDO) => {
      i.limits.maxDatabaseBytes = pages * PS;
      i.chunkedSnapshotBytes = 1024 * 1024;
      i.snapshotLimits = { maxPages: 600 };
      i.snapshotPauseMs = 3_600_000; // steps driven by the test, not by a timer
    });
    const { files, expected } = history(pages, 1901);
    await push(db, files);
    const progress: NonNullable<ActionJSON['progress']>[] = [];
    for (let step = 0; step < 20; step++) {
      const a = await snapshotPass(db);
      expect(a?.ok, a?.error).toBe(true);
      if (!a?.progress) break;
      progress.push(a.progress);
    }
    // ceil(4096 / 600) steps: six that stop at the page bound, then the one that finishes.
    expect(progress.map((p) => p.nextPgno)).toEqual([601, 1201, 1801, 2401, 3001, 3601]);
    const partSize = 8 * 1024 * 1024;
    for (const p of progress) expect(p.bufferedBytes).toBeLessThanOrEqual(partSize + PS + 64);
    const key = ltxKey('db', db, 9, 1n, 4n);
    const obj = await env.LTX_BUCKET.get(key);
    expect(obj).not.toBeNull();
    const snapshot = new Uint8Array(await obj!.arrayBuffer());
    expectSnapshot(snapshot, expected, 4n);
    // The catalog knows its index length, so readers load the index with one exact get.
    const row = await runInDurableObject(env.DATABASE.getByName(db), (i: DatabaseDO) => i.catalog.files(9)[0]);
    expect(row.indexBytes).toBe(decodeLTX(snapshot).indexBytes);
    // One level-9 file in the catalog and in the bucket, nothing else at level 9.
    const listed = await env.LTX_BUCKET.list({ prefix: `db/${db}/0009/` });
    expect(listed.objects.map((o) => o.key)).toEqual([key]);
    const info = (await (await exports.default.fetch(`${BASE}/v1/databases/${db}`, { headers: AUTH })).json()) as {
      levels: { level: number; files: number }[];
    };
    expect(info.levels.find((l) => l.level === 9)?.files).toBe(1);
  });

  it('ends with the same file and no orphaned object or upload, whichever step crashes, before or after which call', async () => {
    const pages = 512;
    const { files, expected } = history(pages, 1902);
    const setup = (db: string, store: ObjectStore) => inSteps(db, store, { maxPages: 64, partSize: 256 * 1024 });
    // A dry run records the store calls each step makes.
    const dry = recorder(new MemoryObjectStore({ minPartSize: 1 }));
    await setup('chunked-dry', dry.store);
    await push('chunked-dry', files);
    const steps: number[][] = [];
    for (let k = 0; k < 50; k++) {
      const from = dry.calls.length;
      const a = await snapshotPass('chunked-dry');
      steps.push(Array.from({ length: dry.calls.length - from }, (_, j) => from + j));
      if (!a?.progress) break;
    }
    const reference = await (await dry.memory.get(ltxKey('db', 'chunked-dry', 9, 1n, 4n)))!.bytes();
    expectSnapshot(reference, expected, 4n);
    expect(steps.length).toBe(8);
    // Crash points: before and after the first and the last store call of every step.
    const points = steps
      .flatMap((calls) => [calls[0], calls[calls.length - 1]])
      .flatMap((n) => [
        { n, after: false },
        { n, after: true },
      ]);
    let run = 0;
    for (const point of points) {
      const db = `chunked-crash-${run++}`;
      const rec = recorder(new MemoryObjectStore({ minPartSize: 1 }));
      await setup(db, rec.store);
      await push(db, files);
      rec.crashAt = { n: rec.calls.length + (point.n - steps[0][0]) + 1, after: point.after };
      let crashed = false;
      let done = false;
      for (let k = 0; k < 60 && !done; k++) {
        try {
          const a = await snapshotPass(db);
          done = a === undefined || (a.ok && a.progress === undefined);
        } catch (e) {
          expect(String(e)).toContain('injected crash');
          crashed = true;
        }
      }
      expect(crashed, `${db}: call ${point.n} ${point.after ? 'after' : 'before'}`).toBe(true);
      expect(done).toBe(true);
      const key = ltxKey('db', db, 9, 1n, 4n);
      expect(await (await rec.memory.get(key))!.bytes(), db).toEqual(reference);
      // One upload, completed (the job never started over), and the bucket holds what the catalog does.
      expect([...rec.uploads.values()], db).toEqual(['completed']);
      const catalog = (await (await exports.default.fetch(`${BASE}/v1/databases/${db}/ltx`, { headers: AUTH })).json()) as {
        files: { level: number; minTXID: string; maxTXID: string }[];
      };
      const keys = catalog.files.map((f) => ltxKey('db', db, f.level, BigInt('0x' + f.minTXID), BigInt('0x' + f.maxTXID))).sort();
      expect((await rec.memory.list({ prefix: `db/${db}/` })).objects.map((o) => o.key).sort(), db).toEqual(keys);
    }
    console.info(`chunked snapshot: ${steps.length} steps, ${points.length} crash runs, each ended with the same file`);
  });

  it('deleting the database mid-snapshot aborts its upload', async () => {
    const db = 'chunked-deleted';
    const { files } = history(300, 1904);
    const rec = recorder(new MemoryObjectStore({ minPartSize: 1 }));
    await inSteps(db, rec.store, { maxPages: 100, partSize: 128 * 1024 });
    await push(db, files);
    expect((await snapshotPass(db))?.progress?.nextPgno).toBe(101);
    expect([...rec.uploads.values()]).toEqual(['open']);
    const del = await exports.default.fetch(`${BASE}/v1/databases/${db}`, { method: 'DELETE', headers: AUTH });
    expect(del.status).toBe(200);
    expect([...rec.uploads.values()]).toEqual(['aborted']);
    expect((await rec.memory.list({ prefix: `db/${db}/` })).objects).toEqual([]);
  });

  it('steps by alarm until done, a step that throws is retried', async () => {
    const db = 'chunked-alarm';
    const { files, expected } = history(300, 1903);
    const rec = recorder(new MemoryObjectStore({ minPartSize: 1 }));
    await inSteps(db, rec.store, { maxPages: 50, partSize: 128 * 1024 });
    await push(db, files);
    expect((await snapshotPass(db))?.progress?.nextPgno).toBe(51);
    rec.crashAt = { n: rec.calls.length + 1, after: false };
    let alarms = 0;
    let failures = 0;
    for (let k = 0; k < 40; k++) {
      try {
        if (!(await runDurableObjectAlarm(env.DATABASE.getByName(db)))) break;
        alarms++;
      } catch {
        failures++; // the alarm stays set: the runtime would retry it
      }
    }
    expect(failures).toBe(1);
    expect(alarms).toBeGreaterThanOrEqual(5);
    expectSnapshot(await (await rec.memory.get(ltxKey('db', db, 9, 1n, 4n)))!.bytes(), expected, 4n);
  });
});

type Call = { op: string; key: string };

/** A store that logs its calls, can crash before or after the n-th one, and tracks multipart uploads. */
function recorder(memory: MemoryObjectStore) {
  const state = {
    memory,
    calls: [] as Call[],
    crashAt: undefined as { n: number; after: boolean } | undefined,
    uploads: new Map<string, 'open' | 'completed' | 'aborted'>(),
    store: undefined as unknown as ObjectStore,
  };
  const call = async <T>(op: string, key: string, fn: () => Promise<T>): Promise<T> => {
    state.calls.push({ op, key });
    const crash = state.crashAt;
    const now = state.calls.length;
    if (crash && crash.n === now && !crash.after) {
      state.crashAt = undefined;
      throw new Error(`injected crash before ${op} ${key}`);
    }
    const out = await fn();
    if (crash && crash.n === now && crash.after) {
      state.crashAt = undefined;
      throw new Error(`injected crash after ${op} ${key}`);
    }
    return out;
  };
  const track = (u: MultipartUpload): MultipartUpload => ({
    key: u.key,
    uploadId: u.uploadId,
    uploadPart: (n, b) => call('uploadPart', u.key, () => u.uploadPart(n, b)),
    complete: (parts) =>
      call('complete', u.key, async () => {
        const info = await u.complete(parts);
        state.uploads.set(u.uploadId, 'completed');
        return info;
      }),
    abort: () =>
      call('abort', u.key, async () => {
        await u.abort();
        state.uploads.set(u.uploadId, 'aborted');
      }),
  });
  state.store = withOverrides(memory, {
    put: (k, b, o) => call('put', k, () => memory.put(k, b, o)),
    get: (k, r) => call('get', k, () => memory.get(k, r)),
    head: (k) => call('head', k, () => memory.head(k)),
    delete: (k) => call('delete', String(k), () => memory.delete(k)),
    createMultipart: (k, o) =>
      call('createMultipart', k, async () => {
        const u = await memory.createMultipart(k, o);
        state.uploads.set(u.uploadId, 'open');
        return track(u);
      }),
    resumeMultipart: (k, id) => track(memory.resumeMultipart(k, id)),
  });
  return state;
}
