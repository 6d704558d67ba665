// The write side against a careless or hostile client: sizes at and around every limit, stalls at every phase of a push, chunked and fixed-length bodies, JSON bombs. Each is refused with its status and code, the head, catalog, registry and R2 unchanged; none is a 5xx.

import { env } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { app } from '../../src/app.ts';
import { DEFAULT_MAX_DATABASE_BYTES } from '../../src/config.ts';
import type { DatabaseDO } from '../../src/durable/database.ts';
import type { RegistryDO } from '../../src/durable/registry.ts';
import { DEFAULT_MAX_TX_BYTES } from '../../src/durable/write-pages.ts';
import { CHECKSUM_FLAG, HEADER_FLAG_NO_CHECKSUM, MAX_TXID } from '../../src/ltx/constants.ts';
import { encodeLTX } from '../../src/ltx/encoder.ts';
import { makeHeader } from '../../src/ltx/header.ts';
import { encodePageBatch } from '../../src/replication/page-batch.ts';
import { endless, stalling, trickling } from '../helpers/bodies.ts';
import { type ChainFile, buildChain } from '../helpers/chain.ts';
import { buildLTX } from '../helpers/ltx-builder.ts';
import { prng } from '../helpers/prng.ts';
import { buildV1 } from '../helpers/v1-builder.ts';
import { homeOf } from '../helpers/registry-shards.ts';
import { registrySettled } from '../helpers/cron-sim.ts';

const BASE = 'https://ltx-edge.test';
const AUTH = { authorization: 'Bearer dev-token' };
const PS = 4096;
/** The deadlines every case runs under, in the Worker (LiteFS sniffing) and in the DOs. */
const IDLE_MS = 400;
const TOTAL_MS = 2000;
const FAST = { ...env, LTX_EDGE_UPLOAD_IDLE_TIMEOUT: `${IDLE_MS}ms`, LTX_EDGE_UPLOAD_TIMEOUT: `${TOTAL_MS}ms` };
/** Pages in a database at the default cap. */
const CAP_PAGES = DEFAULT_MAX_DATABASE_BYTES / PS;

const MAIN = 'wc-main';
const BIG = 'wc-big';
const EMPTY = 'wc-empty';
const SHRUNK = 'wc-shrunk';
const LAST = 'wc-last-txid';
const V1 = 'wc-v1';
const ALL = [MAIN, BIG, EMPTY, SHRUNK, LAST, V1];

let main: ChainFile[];
let big: ChainFile[];

function send(path: string, init: RequestInit & { stream?: ReadableStream<Uint8Array> } = {}): Promise<Response> {
  const headers = { ...AUTH, ...(init.headers as Record<string, string> | undefined) };
  const body = init.stream ?? init.body;
  return Promise.resolve(
    app.request(`${BASE}${path}`, { ...init, headers, body, ...(init.stream ? { duplex: 'half' } : {}) } as RequestInit, FAST),
  );
}

const page = (seed: number) => new Uint8Array(PS).fill(seed & 0xff);
const json = (v: unknown) => JSON.stringify(v);
const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
const hexTXID = (t: bigint) => t.toString(16).padStart(16, '0');

/** The next file after MAIN's head (TXID 4) with `commit`, NoChecksum as Litestream writes. */
function nextFile(commit: number, pages = [{ pgno: 1, data: page(9) }]): Uint8Array {
  return encodeLTX(
    makeHeader({ pageSize: PS, commit, minTXID: 4n, maxTXID: 4n, timestamp: Date.now(), flags: HEADER_FLAG_NO_CHECKSUM }),
    pages,
  );
}

/** Everything a refused write must leave as it was. */
async function stateOf(name: string): Promise<unknown> {
  const info = await send(`/v1/databases/${name}`);
  // The registry hears a head at most every ANNOUNCE_GAP_MS: compare it once it has the DO's.
  const head = info.status === 200 ? ((await info.clone().json()) as { pos: { txid: string } }).pos.txid : undefined;
  if (head !== undefined && !/^0+$/.test(head)) await registrySettled(name, BigInt('0x' + head));
  const files = await send(`/v1/databases/${name}/ltx`);
  const registry = await runInDurableObject(homeOf(name), (_r: RegistryDO, state) =>
    state.storage.sql.exec('SELECT * FROM databases WHERE name = ?', name).toArray(),
  );
  const listed = await env.LTX_BUCKET.list({ prefix: `db/${name}/` });
  return {
    info: [info.status, await info.json()],
    files: [files.status, await files.json()],
    registry,
    r2: listed.objects.map((o) => [o.key, o.size, o.etag]),
  };
}

async function push(name: string, bytes: Uint8Array): Promise<void> {
  const res = await send(`/v1/databases/${name}/ltx`, { method: 'POST', body: bytes });
  expect(res.status, await res.text()).toBe(201);
}

async function tx(name: string, query: string, pages: { pgno: number; data: Uint8Array }[]): Promise<void> {
  const res = await send(`/v1/databases/${name}/tx?${query}`, { method: 'POST', body: encodePageBatch(pages) });
  expect(res.status, await res.text()).toBe(201);
}

/** Waits until the registry row shows the head (its upsert is not awaited by writes). */
async function settled(name: string): Promise<void> {
  const info = (await (await send(`/v1/databases/${name}`)).json()) as { pos: { txid: string } };
  for (let i = 0; i < 500; i++) {
    const rows = await homeOf(name).list(name.slice(0, -1), 1000);
    if (rows.find((r) => r.name === name)?.pos.txid === info.pos.txid) return;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`registry never settled for ${name}`);
}

async function setLimits(name: string, set: (limits: DatabaseDO['limits']) => void): Promise<void> {
  await runInDurableObject(env.DATABASE.getByName(name), (instance: DatabaseDO) => set(instance.limits));
}

beforeAll(async () => {
  main = await buildChain({ seed: 1414, count: 4 });
  big = await buildChain({ seed: 1415, count: 4, big: { 3: 2600 } });
  for (const f of main.slice(0, 3)) await push(MAIN, f.bytes);
  for (const f of big.slice(0, 3)) await push(BIG, f.bytes);
  // SHRUNK: 12 pages at TXID 1, 4 at its head; restoring TXID 1 needs 12 pages, and its cap allows 8.
  await tx(
    SHRUNK,
    'base=0&page_size=4096',
    Array.from({ length: 12 }, (_, i) => ({ pgno: i + 1, data: page(i + 1) })),
  );
  await tx(SHRUNK, 'base=1&commit=4', [{ pgno: 1, data: page(40) }]);
  // LAST: a snapshot at TXID 1, then a file ending at the last TXID there is.
  const h = (min: bigint, max: bigint) =>
    makeHeader({ pageSize: PS, commit: 2, minTXID: min, maxTXID: max, timestamp: Date.now(), flags: HEADER_FLAG_NO_CHECKSUM });
  await push(
    LAST,
    encodeLTX(h(1n, 1n), [
      { pgno: 1, data: page(1) },
      { pgno: 2, data: page(2) },
    ]),
  );
  await push(LAST, encodeLTX(h(2n, MAX_TXID), [{ pgno: 1, data: page(3) }]));
  for (const name of [MAIN, BIG, SHRUNK, LAST]) await settled(name);
  for (const name of ALL) {
    await setLimits(name, (l) => {
      l.upload = { idleMs: IDLE_MS, totalMs: TOTAL_MS };
      if (name === SHRUNK) l.maxDatabaseBytes = 8 * PS;
    });
  }
}, 120_000);

afterAll(async () => {
  for (const name of ALL) await send(`/v1/databases/${name}`, { method: 'DELETE' });
});

interface Case {
  name: string;
  db: string;
  request: () => Promise<Response>;
  status: number;
  code: string;
  details?: Record<string, unknown>;
}

const tooLarge = { status: 413, code: 'DATABASE_TOO_LARGE' };
const timeout = { status: 408, code: 'REQUEST_TIMEOUT' };
const ltxPush = (db: string, init: RequestInit & { stream?: ReadableStream<Uint8Array> }) =>
  send(`/v1/databases/${db}/ltx`, { method: 'POST', ...init });
const txPush = (db: string, query: string, init: RequestInit & { stream?: ReadableStream<Uint8Array> }) =>
  send(`/v1/databases/${db}/tx?${query}`, { method: 'POST', ...init });
const restore = (db: string, init: RequestInit & { stream?: ReadableStream<Uint8Array> }) =>
  send(`/v1/databases/${db}/restore`, { method: 'POST', ...init, headers: { 'content-type': 'application/json' } });
/** A v1 snapshot of `commit` pages of which only page 1 is there: its header is all a refusal needs. */
const v1Snapshot = (commit = 2) =>
  buildV1({
    header: makeHeader({ flags: 1, pageSize: PS, commit, minTXID: 1n, maxTXID: 1n, timestamp: Date.now() }),
    pages: [{ pgno: 1, data: noise(1) }],
    postApplyChecksum: CHECKSUM_FLAG | 1n,
  });
/** An incompressible page: a cut inside its LZ4 frame leaves the page unfinished. */
function noise(seed: number): Uint8Array {
  const r = prng(seed);
  return Uint8Array.from({ length: PS }, () => r.int(256));
}
/** A current-format snapshot header claiming `commit` pages of `pageSize`, and page 1 (the rest never comes). */
const claimedSnapshot = (pageSize: number, commit: number) =>
  buildLTX({
    header: makeHeader({ pageSize, commit, minTXID: 1n, maxTXID: 1n, flags: HEADER_FLAG_NO_CHECKSUM }),
    frames: [{ pgno: 1, data: new Uint8Array(pageSize) }],
    postApplyChecksum: 0n,
  });

const CASES: Case[] = [
  // Sizes, around the cap (1 GiB: 262144 pages of 4 KiB) and SQLite's page-count limit.
  {
    name: 'tx: commit one page past the cap',
    db: MAIN,
    request: () => txPush(MAIN, `base=3&commit=${CAP_PAGES + 1}`, { body: encodePageBatch([{ pgno: 1, data: page(1) }]) }),
    ...tooLarge,
    details: { commit: CAP_PAGES + 1, maxPages: CAP_PAGES, maxBytes: DEFAULT_MAX_DATABASE_BYTES },
  },
  {
    name: 'tx: a page one past the cap (commit grows to it)',
    db: MAIN,
    request: () => txPush(MAIN, 'base=3', { body: encodePageBatch([{ pgno: CAP_PAGES + 2, data: page(1) }]) }),
    ...tooLarge,
  },
  {
    name: "tx: commit at SQLite's page limit",
    db: MAIN,
    request: () => txPush(MAIN, 'base=3&commit=4294967294', { body: encodePageBatch([{ pgno: 1, data: page(1) }]) }),
    ...tooLarge,
  },
  {
    name: 'tx: commit 2^32-1',
    db: MAIN,
    request: () => txPush(MAIN, 'base=3&commit=4294967295', { body: encodePageBatch([{ pgno: 1, data: page(1) }]) }),
    ...tooLarge,
  },
  {
    name: 'tx: commit 2^32 (not a page count)',
    db: MAIN,
    request: () => txPush(MAIN, 'base=3&commit=4294967296', { body: encodePageBatch([{ pgno: 1, data: page(1) }]) }),
    status: 400,
    code: 'BAD_REQUEST',
  },
  {
    name: 'tx: a chunked body one byte past 64 MiB',
    db: MAIN,
    request: () => txPush(MAIN, 'base=3', { stream: endless(new Uint8Array(1 << 20), DEFAULT_MAX_TX_BYTES + (1 << 20)) }),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  {
    name: 'push: header commit one page past the cap',
    db: MAIN,
    request: () => ltxPush(MAIN, { body: nextFile(CAP_PAGES + 1) }),
    ...tooLarge,
  },
  { name: 'push: header commit 2^32-1', db: MAIN, request: () => ltxPush(MAIN, { body: nextFile(0xffffffff) }), ...tooLarge },
  {
    name: 'push: a 64 KiB-page snapshot past the cap onto an empty database',
    db: EMPTY,
    request: () => ltxPush(EMPTY, { body: claimedSnapshot(65536, 16385) }),
    ...tooLarge,
  },
  {
    name: 'push: a 512-byte-page snapshot past the cap, chunked',
    db: EMPTY,
    request: () => ltxPush(EMPTY, { stream: stalling(claimedSnapshot(512, 2 ** 21 + 1)) }),
    ...tooLarge,
  },
  {
    name: 'LiteFS: a v1 snapshot past the cap',
    db: V1,
    request: () => send(`/litefs/db/tx?db=${V1}`, { method: 'POST', body: v1Snapshot(CAP_PAGES + 1) }),
    status: 413,
    code: 'ETOOLARGE',
  },
  {
    name: 'restore: a past state larger than the cap',
    db: SHRUNK,
    request: () => restore(SHRUNK, { body: json({ txid: hexTXID(1n) }) }),
    ...tooLarge,
    details: { commit: 12, maxPages: 8 },
  },
  {
    name: 'restore: the head is the last TXID',
    db: LAST,
    request: () => restore(LAST, { body: json({ txid: hexTXID(1n) }) }),
    status: 409,
    code: 'TXID_EXHAUSTED',
  },
  {
    name: 'tx: the head is the last TXID',
    db: LAST,
    request: () => txPush(LAST, `base=${hexTXID(MAX_TXID)}`, { body: encodePageBatch([{ pgno: 1, data: page(1) }]) }),
    status: 409,
    code: 'TXID_EXHAUSTED',
  },

  // Stalls at every phase, under the deadlines (idle 400 ms, total 2 s).
  { name: 'push: no byte at all', db: MAIN, request: () => ltxPush(MAIN, { stream: stalling() }), ...timeout },
  { name: 'push: inside the header', db: MAIN, request: () => ltxPush(MAIN, { stream: stalling(main[3].bytes.slice(0, 50)) }), ...timeout },
  {
    name: 'push: in the middle of a page',
    db: MAIN,
    request: () => ltxPush(MAIN, { stream: stalling(main[3].bytes.slice(0, 100 + 6 + 40)) }),
    ...timeout,
  },
  {
    name: 'push: before the trailer',
    db: MAIN,
    request: () => ltxPush(MAIN, { stream: stalling(main[3].bytes.slice(0, -16)) }),
    ...timeout,
  },
  {
    name: 'push: fixed length, half of it sent',
    db: MAIN,
    request: () =>
      ltxPush(MAIN, {
        stream: stalling(main[3].bytes.slice(0, main[3].bytes.length >> 1)),
        headers: { 'content-length': String(main[3].bytes.length) },
      }),
    ...timeout,
  },
  {
    name: 'push: between multipart parts (9 MiB of 10.2 sent)',
    db: BIG,
    request: () => ltxPush(BIG, { stream: stalling(big[3].bytes.slice(0, 9 << 20)) }),
    ...timeout,
  },
  {
    name: 'push: 64 KiB every 150 ms, past the total deadline',
    db: BIG,
    request: () => ltxPush(BIG, { stream: trickling(big[3].bytes, 64 << 10, 150) }),
    ...timeout,
  },
  { name: 'tx: no byte at all', db: MAIN, request: () => txPush(MAIN, 'base=3', { stream: stalling() }), ...timeout },
  {
    name: 'tx: in the middle of a page',
    db: MAIN,
    request: () => txPush(MAIN, 'base=3', { stream: stalling(encodePageBatch([{ pgno: 1, data: page(1) }]).slice(0, 2000)) }),
    ...timeout,
  },
  {
    name: 'LiteFS: inside the header (sniffed in the Worker)',
    db: V1,
    request: () => send(`/litefs/db/tx?db=${V1}`, { method: 'POST', stream: stalling(v1Snapshot().slice(0, 40)) }),
    status: 408,
    code: 'ETIMEOUT',
  },
  {
    name: 'LiteFS: after the header (read in the DO)',
    db: V1,
    request: () => send(`/litefs/db/tx?db=${V1}`, { method: 'POST', stream: stalling(v1Snapshot().slice(0, 100 + 60)) }),
    status: 408,
    code: 'ETIMEOUT',
  },

  // JSON bombs.
  {
    name: 'restore: 20,000 levels deep',
    db: MAIN,
    request: () => restore(MAIN, { body: `{"txid": ${deep(20_000)}}` }),
    status: 400,
    code: 'BAD_REQUEST',
  },
  {
    name: 'restore: a 1 MiB body with its length',
    db: MAIN,
    request: () => restore(MAIN, { body: json({ txid: '0'.repeat(1 << 20) }) }),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  {
    name: 'restore: a 4 MiB chunked body',
    db: MAIN,
    request: () => restore(MAIN, { stream: endless(new TextEncoder().encode(' '.repeat(1 << 16)), 4 << 20) }),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  {
    name: 'restore: txid of 17 digits',
    db: MAIN,
    request: () => restore(MAIN, { body: json({ txid: '1' + hexTXID(1n) }) }),
    status: 400,
    code: 'BAD_REQUEST',
  },
  {
    name: 'restore: at as an object',
    db: MAIN,
    request: () => restore(MAIN, { body: json({ at: { t: 'now' } }) }),
    status: 400,
    code: 'BAD_REQUEST',
    details: { field: 'at' },
  },
  {
    name: 'query: params 100 levels deep',
    db: MAIN,
    request: () => send(`/v1/databases/${MAIN}/query`, { method: 'POST', body: `{"sql": "SELECT ?", "params": ${deep(100)}}` }),
    status: 400,
    code: 'BAD_REQUEST',
  },
  {
    name: 'query: sql given as an array',
    db: MAIN,
    request: () => send(`/v1/databases/${MAIN}/query`, { method: 'POST', body: json({ sql: ['SELECT 1'] }) }),
    status: 400,
    code: 'BAD_REQUEST',
    details: { field: 'sql' },
  },
  {
    name: 'query: a 3 MiB chunked body',
    db: MAIN,
    request: () =>
      send(`/v1/databases/${MAIN}/query`, { method: 'POST', stream: endless(new TextEncoder().encode('['.repeat(1 << 16)), 3 << 20) }),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  {
    name: 'LiteFS sync: 10,000 levels deep',
    db: MAIN,
    request: () => send('/litefs/sync', { method: 'POST', body: `{"positions": ${deep(10_000)}}` }),
    status: 400,
    code: 'EINVAL',
  },
  {
    name: 'LiteFS sync: a 1 MiB body',
    db: MAIN,
    request: () => send('/litefs/sync', { method: 'POST', body: json({ positions: {}, pad: 'x'.repeat(1 << 20) }) }),
    status: 413,
    code: 'ETOOLARGE',
  },
  {
    name: 'LiteFS sync: positions as an array',
    db: MAIN,
    request: () => send('/litefs/sync', { method: 'POST', body: json({ positions: [] }) }),
    status: 400,
    code: 'EINVAL',
  },
];

describe('the write-side corpus', () => {
  const seen: { name: string; status: number }[] = [];

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const before = await stateOf(c.db);
    const res = await c.request();
    const text = await res.text();
    seen.push({ name: c.name, status: res.status });
    expect(res.status, text).toBe(c.status);
    const body = JSON.parse(text) as { error?: { code: string; details?: Record<string, unknown> } | string; code?: string };
    const error = typeof body.error === 'object' ? body.error : { code: body.code, details: undefined };
    expect(error.code, text).toBe(c.code);
    if (c.details) expect(error.details, text).toMatchObject(c.details);
    expect(await stateOf(c.db)).toEqual(before);
  });

  it('no case answered with a 5xx', () => {
    expect(seen.length).toBe(CASES.length);
    expect(seen.filter((s) => s.status >= 500)).toEqual([]);
  });

  it('after all of it every database still takes its next write', async () => {
    await push(MAIN, main[3].bytes);
    await push(BIG, big[3].bytes);
    await tx(SHRUNK, 'base=2', [{ pgno: 2, data: page(7) }]);
  });
});

describe('at the limits, writes are accepted', () => {
  it('a /tx that makes the database exactly the cap, and a pushed file that does', async () => {
    const name = 'wc-at-cap';
    await tx(name, 'base=0&page_size=4096', [{ pgno: 1, data: page(1) }]);
    await tx(name, `base=1&commit=${CAP_PAGES}`, [{ pgno: CAP_PAGES, data: page(2) }]);
    await tx(name, 'base=2&commit=1', [{ pgno: 1, data: page(3) }]);
    await push(
      name,
      encodeLTX(
        makeHeader({ pageSize: PS, commit: CAP_PAGES, minTXID: 4n, maxTXID: 4n, timestamp: Date.now(), flags: HEADER_FLAG_NO_CHECKSUM }),
        [{ pgno: 1, data: page(4) }],
      ),
    );
    const info = (await (await send(`/v1/databases/${name}`)).json()) as { size: number };
    expect(info.size).toBe(DEFAULT_MAX_DATABASE_BYTES);
    await send(`/v1/databases/${name}`, { method: 'DELETE' });
  });

  it('a /tx body of exactly the batch limit', async () => {
    const name = 'wc-at-batch-limit';
    const body = encodePageBatch([
      { pgno: 1, data: page(1) },
      { pgno: 2, data: page(2) },
    ]);
    await setLimits(name, (l) => void (l.maxTxBytes = body.length));
    const exact = await txPush(name, 'base=0&page_size=4096', { body });
    expect(exact.status, await exact.text()).toBe(201);
    const over = await txPush(name, 'base=1', { body: new Uint8Array([...body, 0]) });
    expect(over.status).toBe(413);
    await send(`/v1/databases/${name}`, { method: 'DELETE' });
  });
});
