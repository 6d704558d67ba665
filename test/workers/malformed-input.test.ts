// Malformed-input corpus: every bad request gets its exact status and error code, and leaves the database exactly as it was.

import { env, exports } from 'cloudflare:workers';
import { describe, expect, inject, it } from 'vitest';
import { app } from '../../src/app.ts';
import { ChecksumUpdate, DatabaseState, applyLTX } from '../../src/ltx/apply.ts';
import { crcLinear } from '../../src/ltx/crc64.ts';
import type { LTXErrorCode } from '../../src/ltx/errors.ts';
import { type Header, makeHeader } from '../../src/ltx/header.ts';
import { DEFAULT_MAX_TX_BYTES } from '../../src/durable/write-pages.ts';
import { encodePageBatch } from '../../src/replication/page-batch.ts';
import { readBoundedBody } from '../../src/durable/body-reader.ts';
import type { DatabaseDO } from '../../src/durable/database.ts';
import { runInDurableObject } from 'cloudflare:test';
import { bearer, TOKENS, withTokens } from '../helpers/auth-matrix.ts';
import { type FileSpec, type FrameSpec, buildLTX } from '../helpers/ltx-builder.ts';
import { NEGATIVE_CODES } from '../helpers/negative-codes.ts';

const BASE = 'https://ltx-edge.test';
const AUTH = { authorization: 'Bearer dev-token' };
const { manifest, files } = inject('ltxVectors');
/** The app with the fixture tokens (exports.default.fetch only knows dev-token). */
const tokenEnv = withTokens(env);

function bytesOf(rel: string): Uint8Array {
  return Uint8Array.from(atob(files[rel]), (c) => c.charCodeAt(0));
}

/** block-ps4096, TXIDs 1, 2, 3, 4: the setup chain, and the next file pushed after each case. */
const CHAIN = manifest.files
  .filter((f) => f.set === 'block-ps4096')
  .map((f) => f.path)
  .sort()
  .slice(0, 4);
const HEAD_CHECKSUM = CHAIN.map((p) => manifest.files.find((f) => f.path === p)!.db_after!.rolling_checksum);
/** The head after files 1..3. */
const HEAD3 = { txid: '0000000000000003', postApplyChecksum: HEAD_CHECKSUM[2] };
const HEAD3_CHECKSUM = BigInt('0x' + HEAD_CHECKSUM[2]);
/** What an empty database reports as its position. */
const ZERO_POS = { txid: '0000000000000000', postApplyChecksum: '0000000000000000' };

// --- requests --------------------------------------------------------------------------------

interface Req {
  method?: string;
  body?: BodyInit;
  headers?: Record<string, string>;
  /** Authorization value; default dev-token. `null` sends none. */
  auth?: string | null;
  /** Send through `app.request` with the fixture tokens instead of exports.default.fetch. */
  fixtureTokens?: boolean;
}

function send(path: string, r: Req = {}): Promise<Response> {
  const headers = new Headers(r.headers);
  const auth = r.auth === undefined ? AUTH.authorization : r.auth;
  if (auth !== null) headers.set('authorization', auth);
  const init: RequestInit = { method: r.method ?? 'GET', headers, body: r.body };
  if (r.fixtureTokens) return Promise.resolve(app.request(BASE + path, init, tokenEnv));
  return exports.default.fetch(BASE + path, init);
}

const db = (name: string) => `/v1/databases/${name}`;
const push = (name: string, body: Uint8Array, r: Req = {}) => send(`${db(name)}/ltx`, { method: 'POST', body, ...r });
const tx = (name: string, query: string, body?: Uint8Array, r: Req = {}) => send(`${db(name)}/tx${query}`, { method: 'POST', body, ...r });

// --- LTX files that break one rule -----------------------------------------------------------

/** A deterministic page: partly compressible, different per pgno and seed. */
function page(pgno: number, seed = 0, pageSize = 4096): Uint8Array {
  const out = new Uint8Array(pageSize);
  let x = (pgno * 2654435761 + seed * 40503 + 1) >>> 0;
  for (let i = 0; i < pageSize; i++) {
    if (i % 64 < 48) out[i] = (i + pgno + seed) & 0xff;
    else {
      x = (x * 1103515245 + 12345) >>> 0;
      out[i] = x >>> 24;
    }
  }
  return out;
}

const NO_SINK = { writePage: () => undefined, setCommit: () => undefined };

/** The database state after CHAIN[0..n). */
async function stateAt(n: number): Promise<DatabaseState> {
  const s = new DatabaseState();
  for (const p of CHAIN.slice(0, n)) await applyLTX(s, [bytesOf(p)], NO_SINK);
  return s;
}

/** The true post-apply checksum of `frames` (any order) applied at head `n`. */
async function postApply(n: number, header: Header, frames: { pgno: number; data: Uint8Array }[]): Promise<bigint> {
  const update = new ChecksumUpdate(await stateAt(n), header);
  for (const f of [...frames].sort((a, b) => a.pgno - b.pgno)) update.page(f.pgno, crcLinear(f.data));
  return update.finish();
}

function header4(fields: Partial<Header> = {}): Header {
  return makeHeader({
    pageSize: 4096,
    commit: 10,
    minTXID: 4n,
    maxTXID: 4n,
    timestamp: 1_700_000_010_000,
    preApplyChecksum: HEAD3_CHECKSUM,
    ...fields,
  });
}

const NEXT_FRAMES: FrameSpec[] = [
  { pgno: 2, data: page(2, 9) },
  { pgno: 5, data: page(5, 9) },
];

/** A valid TXID-4 file at head 3 (pages 2 and 5) with `patch` applied to its spec afterwards. */
async function next(patch: (spec: FileSpec) => FileSpec = (s) => s, header = header4(), frames = NEXT_FRAMES): Promise<Uint8Array> {
  const spec: FileSpec = { header, frames, postApplyChecksum: await postApply(3, header, frames) };
  return buildLTX(patch(spec));
}

/** An incompressible page. */
function noisePage(pgno: number): Uint8Array {
  const out = new Uint8Array(4096);
  let x = (pgno * 2654435761) >>> 0 || 1;
  for (let i = 0; i < out.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** A snapshot over 8 MiB (DEFAULT_PART_SIZE), so ingest streams it through a multipart upload. */
async function largeSnapshot(patch: (spec: FileSpec) => FileSpec): Promise<Uint8Array> {
  const header = makeHeader({ pageSize: 4096, commit: 2200, minTXID: 1n, maxTXID: 1n, timestamp: 1 });
  const frames = Array.from({ length: 2200 }, (_, i) => ({ pgno: i + 1, data: noisePage(i + 1) }));
  return buildLTX(patch({ header, frames, postApplyChecksum: await postApply(0, header, frames) }));
}

function cut(bytes: Uint8Array, end: number): Uint8Array {
  return bytes.slice(0, end < 0 ? bytes.length + end : end);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// --- database state --------------------------------------------------------------------------

const VALID_KEY = /^db\/[a-z0-9][a-z0-9._-]{0,62}\/[0-9a-f]{4}\/[0-9a-f]{16}-[0-9a-f]{16}\.ltx$/;

/** Every object under `prefix`, with size, etag, upload time and metadata. */
async function objects(prefix?: string): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await env.LTX_BUCKET.list({ prefix, cursor, include: ['customMetadata'] });
    for (const o of page.objects) {
      out.push(`${o.key} ${o.size} ${o.etag} ${o.uploaded.getTime()} ${JSON.stringify(o.customMetadata)}`);
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return out;
}

async function jsonOf(res: Response): Promise<{ status: number; body: unknown }> {
  return { status: res.status, body: await res.json() };
}

/**
 * What a client (and R2) can see of a database: info, catalog listing, registry entry, its objects;
 * plus objects of this file's databases and any object outside the key layout anywhere in the bucket.
 */
async function snapshot(name: string) {
  const registry = (await (await send('/v1/databases?limit=1000')).json()) as { databases: { name: string }[] };
  const ours = (await objects('')).filter((k) => k.startsWith('db/mal-') || !VALID_KEY.test(k.split(' ')[0]));
  return {
    info: await jsonOf(await send(db(name))),
    ltx: await jsonOf(await send(`${db(name)}/ltx`)),
    registry: registry.databases.find((d) => d.name === name) ?? null,
    objects: await objects(`db/${name}/`),
    bucket: ours,
  };
}

// --- the corpus ------------------------------------------------------------------------------

interface Case {
  name: string;
  /** How many CHAIN files the database holds before the request (default 3). */
  head?: number;
  /** More setup after the chain (the follow-up push of the next chain file is then skipped). */
  setup?: (name: string) => Promise<void>;
  request: (name: string) => Promise<Response>;
  /** The DO's size cap for this case (default LTX_EDGE_MAX_DATABASE_BYTES): 2 GiB to reach a lock page. */
  maxDatabaseBytes?: number;
  status: number;
  code: string;
  ltxCode?: LTXErrorCode;
  /** Expected to be contained in error.details. */
  details?: Record<string, unknown>;
}

/** A cap above the lock page (byte 2^30, so past any database within the default 1 GiB). */
const TWO_GIB = 2 ** 31;
const invalidLtx = (ltxCode: LTXErrorCode) => ({ status: 422, code: 'INVALID_LTX', ltxCode });
const mismatch = (pos: object) => ({ status: 409, code: 'POSITION_MISMATCH', details: { pos } });
const badRequest = { status: 400, code: 'BAD_REQUEST' };
const invalidName = { status: 400, code: 'INVALID_NAME' };
const notFound = { status: 404, code: 'NOT_FOUND' };
const unsatisfiable = { status: 416, code: 'RANGE_NOT_SATISFIABLE' };
const conflict = (pos: object) => ({ status: 409, code: 'CONFLICT', details: { pos } });

const FILE3 = '0000000000000003-0000000000000003.ltx';
const batch = (...pages: [number, Uint8Array][]) => encodePageBatch(pages.map(([pgno, data]) => ({ pgno, data })));
/** A raw batch frame header: u32 pgno, u32 length. */
function frameHead(pgno: number, length: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setUint32(0, pgno);
  new DataView(b.buffer).setUint32(4, length);
  return b;
}

/** MinTXID from raw header bytes (the manifest's negative entries carry no decoded header in the type). */
function minTXIDOf(bytes: Uint8Array): number {
  return Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(16));
}

function negativeCases(): Case[] {
  const out: Case[] = [];
  for (const n of manifest.negative) {
    const legacy = n.path.includes('legacy-v1');
    // Pushed as the next file: onto the head just before its MinTXID (MinTXID 0 onto an empty database).
    const head = legacy ? 3 : Math.max(0, Math.min(3, minTXIDOf(bytesOf(n.path)) - 1));
    out.push({
      name: `negative vector ${n.path} as the next file (head ${head})`,
      head,
      request: (name) => push(name, bytesOf(n.path)),
      // The v1 file's header is a valid v3 header for TXID 13 with a foreign pre-apply checksum: the
      // header decides first, so no database of ours can make it "next"; at head 3 it is a gap.
      ...(legacy ? mismatch(HEAD3) : invalidLtx(NEGATIVE_CODES[n.path])),
    });
    if (!legacy && head !== 3) {
      // At head 3 the TXIDs are committed: the re-push path must verify the bytes just as strictly.
      out.push({
        name: `negative vector ${n.path} over its committed TXIDs (head 3)`,
        request: (name) => push(name, bytesOf(n.path)),
        ...invalidLtx(NEGATIVE_CODES[n.path]),
      });
    }
  }
  return out;
}

const CASES: Case[] = [
  ...negativeCases(),

  // Bad LTX built to break one rule, with a valid file checksum, pushed as TXID 4 at head 3.
  {
    name: 'pages out of order (5 then 2)',
    request: async (name) => push(name, await next((s) => ({ ...s, frames: [...s.frames].reverse() }))),
    ...invalidLtx('LTX_PAGE_ORDER'),
  },
  {
    name: 'the same page twice',
    request: async (name) => push(name, await next((s) => ({ ...s, frames: [s.frames[0], s.frames[0]] }))),
    ...invalidLtx('LTX_PAGE_ORDER'),
  },
  {
    name: 'lock page present',
    request: async (name) =>
      push(
        name,
        await next(undefined, header4({ commit: 262146 }), [
          { pgno: 2, data: page(2) },
          { pgno: 262145, data: page(7) },
        ]),
      ),
    maxDatabaseBytes: TWO_GIB,
    ...invalidLtx('LTX_LOCK_PAGE'),
  },
  {
    name: 'page beyond commit',
    request: async (name) => push(name, await next((s) => ({ ...s, frames: [...s.frames, { pgno: 11, data: page(11) }] }))),
    ...invalidLtx('LTX_PAGE_OUT_OF_RANGE'),
  },
  {
    name: 'page number 0 in a frame',
    request: async (name) => push(name, await next((s) => ({ ...s, frames: [{ pgno: 0, data: page(1) }, ...s.frames] }))),
    ...invalidLtx('LTX_BAD_PAGE_HEADER'),
  },
  {
    name: 'unknown page header flag',
    request: async (name) => push(name, await next((s) => ({ ...s, frames: [{ ...s.frames[0], flags: 3 }, s.frames[1]] }))),
    ...invalidLtx('LTX_BAD_PAGE_HEADER'),
  },
  {
    name: 'truncated body (last 10 bytes missing)',
    request: async (name) => push(name, cut(await next(), -10)),
    ...invalidLtx('LTX_TRUNCATED'),
  },
  {
    name: 'truncated inside a page frame',
    request: async (name) => push(name, cut(await next(), 150)),
    ...invalidLtx('LTX_TRUNCATED'),
  },
  {
    name: 'truncated inside the header',
    request: async (name) => push(name, cut(await next(), 60)),
    ...invalidLtx('LTX_TRUNCATED'),
  },
  {
    name: 'trailing bytes after the trailer',
    request: async (name) => push(name, await next((s) => ({ ...s, trailing: new Uint8Array([0, 0, 0, 0]) }))),
    ...invalidLtx('LTX_TRAILING_DATA'),
  },
  {
    name: 'wrong post-apply checksum',
    request: async (name) => push(name, await next((s) => ({ ...s, postApplyChecksum: s.postApplyChecksum ^ 0x10n }))),
    ...invalidLtx('LTX_POST_APPLY_MISMATCH'),
  },
  {
    name: 'post-apply checksum without bit 63',
    request: async (name) => push(name, await next((s) => ({ ...s, postApplyChecksum: s.postApplyChecksum & ~(1n << 63n) }))),
    ...invalidLtx('LTX_BAD_TRAILER'),
  },
  {
    name: 'page index with a wrong offset',
    request: async (name) =>
      push(
        name,
        await next((s) => ({
          ...s,
          index: [
            { pgno: 2, offset: 100, size: 9 },
            { pgno: 5, offset: 109, size: 9 },
          ],
        })),
      ),
    ...invalidLtx('LTX_BAD_INDEX'),
  },
  {
    name: 'page index length field wrong',
    request: async (name) => push(name, await next((s) => ({ ...s, indexLength: 3n }))),
    ...invalidLtx('LTX_BAD_INDEX'),
  },
  {
    name: 'compressed block is garbage',
    request: async (name) =>
      push(
        name,
        await next((s) => ({
          ...s,
          frames: [{ ...s.frames[0], payload: new Uint8Array([0xf0, 0xff, 0xff, 0xff, 1, 2, 3]) }, s.frames[1]],
        })),
      ),
    ...invalidLtx('LTX_BAD_PAGE_DATA'),
  },
  {
    name: 'compressed block decompresses to less than a page',
    request: async (name) =>
      push(name, await next((s) => ({ ...s, frames: [{ ...s.frames[0], payload: new Uint8Array([0x40, 1, 2, 3, 4]) }, s.frames[1]] }))),
    ...invalidLtx('LTX_BAD_PAGE_DATA'),
  },
  {
    name: 'wrong file checksum',
    request: async (name) => push(name, await next((s) => ({ ...s, fileChecksum: (1n << 63n) | 12345n }))),
    ...invalidLtx('LTX_FILE_CHECKSUM_MISMATCH'),
  },
  {
    name: 'reserved header byte set',
    request: async (name) => push(name, await next((s) => ({ ...s, headerPatch: [[99, 1]] }))),
    ...invalidLtx('LTX_RESERVED_SET'),
  },
  {
    name: 'NoChecksum file with a post-apply checksum',
    request: async (name) => push(name, await next((s) => ({ ...s, header: { ...s.header, flags: 2, preApplyChecksum: 0n } }))),
    ...invalidLtx('LTX_BAD_TRAILER'),
  },
  {
    name: 'snapshot missing its last page, onto an empty database',
    head: 0,
    request: async (name) => {
      const header = makeHeader({ pageSize: 4096, commit: 8, minTXID: 1n, maxTXID: 1n, timestamp: 1 });
      const frames = [1, 2, 3, 4, 5, 6, 7].map((pgno) => ({ pgno, data: page(pgno) }));
      return push(name, buildLTX({ header, frames, postApplyChecksum: await postApply(0, header, frames) }));
    },
    ...invalidLtx('LTX_SNAPSHOT_INCOMPLETE'),
  },
  {
    name: 'timestamp past year 9999 (no RFC3339 litestream-timestamp)',
    request: async (name) => push(name, await next(undefined, header4({ timestamp: 253_402_300_800_000 }))),
    ...invalidLtx('LTX_BAD_HEADER'),
  },
  {
    name: 'timestamp before year 0000',
    request: async (name) => push(name, await next(undefined, header4({ timestamp: -62_167_219_200_001 }))),
    ...invalidLtx('LTX_BAD_HEADER'),
  },
  {
    name: 'snapshot over 8 MiB (multipart) with a wrong post-apply checksum',
    head: 0,
    request: async (name) => push(name, await largeSnapshot((s) => ({ ...s, postApplyChecksum: s.postApplyChecksum ^ 1n }))),
    ...invalidLtx('LTX_POST_APPLY_MISMATCH'),
  },
  {
    name: 'snapshot over 8 MiB (multipart) truncated',
    head: 0,
    request: async (name) => push(name, cut(await largeSnapshot((s) => s), -3)),
    ...invalidLtx('LTX_TRUNCATED'),
  },
  {
    name: 'random bytes',
    request: (name) =>
      push(
        name,
        page(1, 77, 1000).map((b) => b ^ 0x5a),
      ),
    ...invalidLtx('LTX_BAD_MAGIC'),
  },
  {
    name: 'empty body (zero bytes)',
    request: (name) => push(name, new Uint8Array(0)),
    ...invalidLtx('LTX_TRUNCATED'),
  },
  {
    name: 'no body',
    request: (name) => send(`${db(name)}/ltx`, { method: 'POST' }),
    ...badRequest,
  },

  // Valid files that do not fit the database.
  {
    name: 'page size 1024 onto a 4096 database',
    request: async (name) => {
      const header = header4({ pageSize: 1024 });
      return push(name, buildLTX({ header, frames: [{ pgno: 2, data: page(2, 0, 1024) }], postApplyChecksum: (1n << 63n) | 1n }));
    },
    status: 409,
    code: 'PAGE_SIZE_MISMATCH',
    details: { pageSize: 4096 },
  },
  {
    name: 'gap: MinTXID head+2',
    request: async (name) => push(name, await next(undefined, header4({ minTXID: 5n, maxTXID: 5n }))),
    ...mismatch(HEAD3),
  },
  {
    name: 'overlap 3-4 (not an exact re-push)',
    request: async (name) => push(name, await next(undefined, header4({ minTXID: 3n, preApplyChecksum: BigInt('0x' + HEAD_CHECKSUM[1]) }))),
    ...mismatch(HEAD3),
  },
  {
    name: 'overlap: the compacted 1-7 reference file',
    request: (name) => push(name, bytesOf('block-ps4096/compacted/0000000000000001-0000000000000007.ltx')),
    ...mismatch(HEAD3),
  },
  {
    name: 'behind the head: 2-3 not committed as such',
    request: async (name) => {
      const header = header4({ minTXID: 2n, maxTXID: 3n, preApplyChecksum: BigInt('0x' + HEAD_CHECKSUM[0]) });
      return push(name, buildLTX({ header, frames: NEXT_FRAMES, postApplyChecksum: await postApply(1, header, NEXT_FRAMES) }));
    },
    ...mismatch(HEAD3),
  },
  {
    name: 'a different file re-pushed for committed TXID 3',
    request: async (name) => {
      const header = header4({ minTXID: 3n, maxTXID: 3n, preApplyChecksum: BigInt('0x' + HEAD_CHECKSUM[1]) });
      return push(name, buildLTX({ header, frames: NEXT_FRAMES, postApplyChecksum: await postApply(2, header, NEXT_FRAMES) }));
    },
    ...mismatch(HEAD3),
  },
  {
    name: 'a different snapshot re-pushed for committed TXID 1',
    request: (name) => push(name, bytesOf('block-pagesizes/ps1024/0000000000000001-0000000000000001.ltx')),
    ...mismatch(HEAD3),
  },
  {
    name: 'committed TXID 3 re-pushed truncated',
    request: (name) => push(name, cut(bytesOf(CHAIN[2]), -1)),
    ...invalidLtx('LTX_TRUNCATED'),
  },
  {
    name: 'checksum-chain break (pre-apply ≠ head)',
    request: async (name) => push(name, await next(undefined, header4({ preApplyChecksum: HEAD3_CHECKSUM ^ 0x40n }))),
    ...mismatch(HEAD3),
  },
  {
    name: 'non-snapshot onto an empty database',
    head: 0,
    request: (name) => push(name, bytesOf(CHAIN[1])),
    ...mismatch(ZERO_POS),
  },

  // Database names (DESIGN §2), on a write route with a valid file.
  ...(
    [
      ['uppercase', 'Orders', invalidName],
      ['64 characters', 'a'.repeat(64), invalidName],
      ['leading dot', '.orders', invalidName],
      ['leading dash', '-orders', invalidName],
      ['leading underscore', '_orders', invalidName],
      ['two dots inside', 'a..b', invalidName],
      ['encoded path traversal ..%2F..%2Fetc', '..%2F..%2Fetc', invalidName],
      ['encoded slash a%2Fb', 'a%2Fb', invalidName],
      ['unicode', encodeURIComponent('ördérs'), invalidName],
      ['space', 'my%20db', invalidName],
      ['NUL byte', 'a%00b', invalidName],
      // URL parsing resolves a ".." (or "%2e%2e") segment before routing: /v1/databases/../ltx is /v1/ltx.
      ['".." segment (resolved by the URL parser)', '..', notFound],
      ['"%2e%2e" segment (resolved by the URL parser)', '%2e%2e', notFound],
      ['empty name', '', notFound],
    ] as const
  ).map(
    ([what, raw, want]): Case => ({
      name: `database name: ${what}`,
      request: () => push(raw, bytesOf(CHAIN[0])),
      ...want,
    }),
  ),
  {
    name: 'database name too long on a read route',
    request: () => send(db('b'.repeat(64))),
    ...invalidName,
  },
  {
    name: 'database name with uppercase on DELETE',
    request: () => send(db('ORDERS'), { method: 'DELETE' }),
    ...invalidName,
  },

  // Query values.
  ...(
    [
      ['level=10', '/ltx?level=10'],
      ['level=a (10 in hex)', '/ltx?level=a'],
      ['level=x', '/ltx?level=x'],
      ['level= (empty)', '/ltx?level='],
      ['level=00009 (5 digits)', '/ltx?level=00009'],
      ['after=zz', '/ltx?after=zz'],
      ['after= 17 hex digits', '/ltx?after=00000000000000001'],
      ['after=ABC (uppercase)', '/ltx?after=ABC'],
      ['after= (empty)', '/ltx?after='],
      ['limit=0', '/ltx?limit=0'],
      ['limit=5000', '/ltx?limit=5000'],
      ['limit=-1', '/ltx?limit=-1'],
      ['limit=1.5', '/ltx?limit=1.5'],
    ] as const
  ).map(([what, suffix]): Case => ({ name: `listing: ${what}`, request: (name) => send(db(name) + suffix), ...badRequest })),
  { name: 'database list: limit=0', request: () => send('/v1/databases?limit=0'), ...badRequest },
  { name: 'database list: limit=abc', request: () => send('/v1/databases?limit=abc'), ...badRequest },

  // Raw file names and ranges.
  { name: 'raw: not-a-file.ltx', request: (name) => send(`${db(name)}/ltx/0000/not-a-file.ltx`), ...badRequest },
  {
    name: 'raw: uppercase hex file name',
    request: (name) => send(`${db(name)}/ltx/0000/000000000000000A-000000000000000A.ltx`),
    ...badRequest,
  },
  { name: 'raw: short file name', request: (name) => send(`${db(name)}/ltx/0000/3-3.ltx`), ...badRequest },
  { name: 'raw: MinTXID 0', request: (name) => send(`${db(name)}/ltx/0000/0000000000000000-0000000000000003.ltx`), ...badRequest },
  { name: 'raw: MinTXID > MaxTXID', request: (name) => send(`${db(name)}/ltx/0000/0000000000000003-0000000000000002.ltx`), ...badRequest },
  { name: 'raw: level 000a', request: (name) => send(`${db(name)}/ltx/000a/${FILE3}`), ...badRequest },
  { name: 'raw: level zz', request: (name) => send(`${db(name)}/ltx/zz/${FILE3}`), ...badRequest },
  {
    name: 'raw: file that does not exist',
    request: (name) => send(`${db(name)}/ltx/0000/0000000000000009-0000000000000009.ltx`),
    ...notFound,
  },
  { name: 'raw: file at the wrong level', request: (name) => send(`${db(name)}/ltx/0009/${FILE3}`), ...notFound },
  ...(
    [
      ['malformed Range bytes=abc', 'bytes=abc'],
      ['Range with two ranges', 'bytes=0-1,5-6'],
      ['Range that ends before it starts', 'bytes=10-5'],
      ['Range bytes=-0', 'bytes=-0'],
      ['Range bytes=-', 'bytes=-'],
      ['Range starting past the end', 'bytes=100000-'],
      ['Range starting past the end, closed', 'bytes=100000-100010'],
      ['Range starting exactly at the end', `bytes=${manifest.files.find((f) => f.path === CHAIN[2])!.decoded.size}-`],
    ] as const
  ).map(
    ([what, range]): Case => ({
      name: `raw: ${what}`,
      request: (name) => send(`${db(name)}/ltx/0000/${FILE3}`, { headers: { range } }),
      ...unsatisfiable,
    }),
  ),

  // The database file over HTTP ranges, and read links (DESIGN §4a).
  ...(
    [
      ['bytes=abc', 'bytes=abc'],
      ['ending before it starts', 'bytes=10-5'],
      ['bytes=-0', 'bytes=-0'],
      ['bytes=-', 'bytes=-'],
      ['starting past the end', 'bytes=100000000-'],
      ['several, all past the end', 'bytes=100000000-,200000000-'],
      ['a 30-digit start', `bytes=${'9'.repeat(30)}-`],
    ] as const
  ).map(
    ([what, range]): Case => ({
      name: `file: Range ${what}`,
      request: (name) => send(`${db(name)}/snapshot?format=sqlite&txid=0000000000000003`, { headers: { range } }),
      ...unsatisfiable,
    }),
  ),
  {
    name: 'file: If-Match another ETag',
    request: (name) => send(`${db(name)}/snapshot?format=sqlite`, { headers: { 'if-match': '"x"' } }),
    status: 412,
    code: 'PRECONDITION_FAILED',
  },
  { name: 'file: format=csv', request: (name) => send(`${db(name)}/snapshot?format=csv`), ...badRequest },
  {
    name: 'file: TXID past the head',
    request: (name) => send(`${db(name)}/snapshot?format=sqlite&txid=0000000000000009`, { headers: { range: 'bytes=0-9' } }),
    status: 409,
    code: 'NOT_YET_AVAILABLE',
  },
  { name: 'links: txid not hex', request: (name) => send(`${db(name)}/links`, { method: 'POST', body: '{"txid":"xyz"}' }), ...badRequest },
  {
    name: 'links: txid and at',
    request: (name) => send(`${db(name)}/links`, { method: 'POST', body: '{"txid":"0000000000000001","at":"now"}' }),
    ...badRequest,
  },
  // GET …/watch: a bad resume point is refused before any stream opens.
  ...(
    [
      ['Last-Event-ID not hex', { 'last-event-id': 'xyz' }, ''],
      ['Last-Event-ID of 17 digits', { 'last-event-id': '1'.repeat(17) }, ''],
      ['Last-Event-ID negative', { 'last-event-id': '-1' }, ''],
      ['since upper-case hex', {}, '?since=00000000000000AB'],
      ['since empty', {}, '?since='],
    ] as const
  ).map(
    ([what, headers, query]): Case => ({
      name: `watch: ${what}`,
      request: (name) => send(`${db(name)}/watch${query}`, { headers }),
      ...badRequest,
    }),
  ),
  { name: 'watch: a database never written', request: () => send('/v1/databases/malformed-nobody/watch'), ...notFound },
  // POST …/query bodies, checked by the hand-written field rules (routes/json-body.ts): the wrong field is named.
  ...(
    [
      ['sql missing', '{"params":[1]}', { field: 'sql' }],
      ['sql a number', '{"sql":5}', { field: 'sql' }],
      ['sql only spaces', '{"sql":"   "}', { field: 'sql' }],
      ['params a string', '{"sql":"SELECT ?","params":"1"}', { field: 'params' }],
      ['params a number', '{"sql":"SELECT ?","params":1}', { field: 'params' }],
      ['txid a number', '{"sql":"SELECT 1","txid":1}', { field: 'txid' }],
      ['an unknown field', '{"sql":"SELECT 1","limit":5}', { field: null }],
      ['an array body', '[{"sql":"SELECT 1"}]', { field: null }],
      ['a string body', '"SELECT 1"', { field: null }],
    ] as const
  ).map(
    ([what, body, details]): Case => ({
      name: `query: ${what}`,
      request: (name) => send(`${db(name)}/query`, { method: 'POST', body }),
      ...badRequest,
      details,
    }),
  ),
  {
    name: 'links: expiresIn a string',
    request: (name) => send(`${db(name)}/links`, { method: 'POST', body: '{"expiresIn":"60"}' }),
    ...badRequest,
    details: { field: 'expiresIn' },
  },
  {
    name: 'links: expiresIn a fraction',
    request: (name) => send(`${db(name)}/links`, { method: 'POST', body: '{"expiresIn":1.5}' }),
    ...badRequest,
    details: { field: 'expiresIn' },
  },
  {
    name: 'links: an array body',
    request: (name) => send(`${db(name)}/links`, { method: 'POST', body: '[]' }),
    ...badRequest,
    details: { field: null },
  },
  { name: 'links: expiresIn 0', request: (name) => send(`${db(name)}/links`, { method: 'POST', body: '{"expiresIn":0}' }), ...badRequest },
  {
    name: 'links: expiresIn of a year',
    request: (name) => send(`${db(name)}/links`, { method: 'POST', body: '{"expiresIn":31536000}' }),
    ...badRequest,
  },
  {
    name: 'links: a field of another route',
    request: (name) => send(`${db(name)}/links`, { method: 'POST', body: '{"sql":"SELECT 1"}' }),
    ...badRequest,
  },
  { name: 'links: not JSON', request: (name) => send(`${db(name)}/links`, { method: 'POST', body: '{"txid":' }), ...badRequest },
  {
    name: 'links: body over 4 KiB',
    request: (name) => send(`${db(name)}/links`, { method: 'POST', body: JSON.stringify({ at: 'x'.repeat(5000) }) }),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  {
    name: 'links: past the head',
    request: (name) => send(`${db(name)}/links`, { method: 'POST', body: '{"txid":"0000000000000009"}' }),
    status: 409,
    code: 'NOT_YET_AVAILABLE',
  },
  {
    name: 'links: without a token',
    request: (name) => send(`${db(name)}/links`, { method: 'POST', body: '{}', auth: null }),
    status: 401,
    code: 'UNAUTHORIZED',
  },
  {
    name: 'links: other-database token mints',
    request: (name) =>
      send(`${db(name)}/links`, { method: 'POST', body: '{}', auth: bearer(TOKENS.otherDb).authorization, fixtureTokens: true }),
    status: 403,
    code: 'FORBIDDEN',
  },
  { name: 'link: garbage token', request: (name) => send(`/v1/links/${name}/garbage`, { auth: null }), status: 403, code: 'LINK_INVALID' },
  {
    name: 'link: well-formed, unsigned',
    request: (name) =>
      send(`/v1/links/${name}/0000000000000003.9999999999.${'0'.repeat(32)}.${'A'.repeat(43)}`, {
        auth: null,
        headers: { range: 'bytes=0-99' },
      }),
    status: 403,
    code: 'LINK_INVALID',
  },
  { name: 'link: invalid database name', request: () => send(`/v1/links/..%2Fdb/x.1.a.b`, { auth: null }), ...invalidName },

  // Page-set writes.
  { name: 'tx: missing base', request: (name) => tx(name, '', batch([2, page(2)])), ...badRequest },
  { name: 'tx: base=zz', request: (name) => tx(name, '?base=zz', batch([2, page(2)])), ...badRequest },
  { name: 'tx: stale base', request: (name) => tx(name, '?base=2', batch([2, page(2)])), ...conflict(HEAD3) },
  { name: 'tx: base ahead of the head', request: (name) => tx(name, '?base=4', batch([2, page(2)])), ...conflict(HEAD3) },
  {
    name: 'tx: base 1 on an empty database',
    head: 0,
    request: (name) => tx(name, '?base=1&page_size=4096', batch([1, page(1)])),
    ...conflict(ZERO_POS),
  },
  { name: 'tx: truncated frame header', request: (name) => tx(name, '?base=3', cut(batch([2, page(2)]), 5)), ...badRequest },
  { name: 'tx: truncated page', request: (name) => tx(name, '?base=3', cut(batch([2, page(2)]), 100)), ...badRequest },
  { name: 'tx: second frame truncated', request: (name) => tx(name, '?base=3', cut(batch([2, page(2)], [3, page(3)]), -1)), ...badRequest },
  { name: 'tx: pgno 0', request: (name) => tx(name, '?base=3', batch([0, page(1)])), ...badRequest },
  { name: 'tx: descending pages', request: (name) => tx(name, '?base=3', batch([5, page(5)], [2, page(2)])), ...badRequest },
  { name: 'tx: the same page twice', request: (name) => tx(name, '?base=3', batch([2, page(2)], [2, page(2)])), ...badRequest },
  {
    name: 'tx: page of 1024 bytes in a 4096 database',
    request: (name) => tx(name, '?base=3', batch([2, page(2, 0, 1024)])),
    ...badRequest,
  },
  {
    name: 'tx: frame length field says 4096, fewer bytes follow',
    request: (name) => tx(name, '?base=3', concat(frameHead(2, 4096), page(2, 0, 1024))),
    ...badRequest,
  },
  { name: 'tx: frame length 0xffffffff', request: (name) => tx(name, '?base=3', concat(frameHead(2, 0xffffffff), page(2))), ...badRequest },
  { name: 'tx: empty batch', request: (name) => tx(name, '?base=3', new Uint8Array(0)), ...badRequest },
  { name: 'tx: no body', request: (name) => tx(name, '?base=3'), ...badRequest },
  {
    // DEFAULT_MAX_TX_BYTES is 64 MiB and the route cannot lower it, so this sends 64 MiB + 8 bytes.
    name: 'tx: body over 64 MiB',
    request: (name) => tx(name, '?base=3', new Uint8Array(DEFAULT_MAX_TX_BYTES + 8)),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  { name: 'tx: first write without page_size', head: 0, request: (name) => tx(name, '?base=0', batch([1, page(1)])), ...badRequest },
  {
    name: 'tx: page_size differs from the database',
    request: (name) => tx(name, '?base=3&page_size=1024', batch([2, page(2, 0, 1024)])),
    status: 409,
    code: 'PAGE_SIZE_MISMATCH',
    details: { pageSize: 4096 },
  },
  {
    name: 'tx: page_size=1000 on an empty database',
    head: 0,
    request: (name) => tx(name, '?base=0&page_size=1000', batch([1, page(1, 0, 1000)])),
    ...badRequest,
  },
  { name: 'tx: page_size=256', head: 0, request: (name) => tx(name, '?base=0&page_size=256', batch([1, page(1, 0, 256)])), ...badRequest },
  { name: 'tx: page_size=x', request: (name) => tx(name, '?base=3&page_size=x', batch([2, page(2)])), ...badRequest },
  { name: 'tx: commit below the highest page', request: (name) => tx(name, '?base=3&commit=2', batch([5, page(5)])), ...badRequest },
  { name: 'tx: commit=0', request: (name) => tx(name, '?base=3&commit=0', batch([2, page(2)])), ...badRequest },
  { name: 'tx: commit=x', request: (name) => tx(name, '?base=3&commit=x', batch([2, page(2)])), ...badRequest },
  { name: 'tx: commit=2^32', request: (name) => tx(name, '?base=3&commit=4294967296', batch([2, page(2)])), ...badRequest },
  {
    name: 'tx: the head is at TXID 2^64-1 (no next TXID)',
    setup: async (name) => {
      const res = await push(name, await next(undefined, header4({ maxTXID: (1n << 64n) - 1n })));
      expect(res.status).toBe(201);
      await res.body?.cancel();
    },
    request: (name) => tx(name, '?base=ffffffffffffffff', batch([2, page(2)])),
    status: 409,
    code: 'TXID_EXHAUSTED',
    details: { pos: { txid: 'ffffffffffffffff' } },
  },
  // Valid LTX, but a database of ~4 billion pages (16 TiB) no DO could snapshot: past the size cap.
  {
    name: 'tx: commit=4294967295 with one page',
    request: (name) => tx(name, '?base=3&commit=4294967295', batch([7, page(7, 3)])),
    status: 413,
    code: 'DATABASE_TOO_LARGE',
    details: { commit: 4294967295, maxPages: 262144 },
  },
  {
    name: 'push: a one-page file with commit 0xffffffff',
    request: async (name) => push(name, await next((s) => s, header4({ commit: 0xffffffff }), [{ pgno: 0xfffffffe, data: page(1, 4) }])),
    status: 413,
    code: 'DATABASE_TOO_LARGE',
  },
  { name: 'tx: the lock page', request: (name) => tx(name, '?base=3', batch([262145, page(1)])), maxDatabaseBytes: TWO_GIB, ...badRequest },
  {
    name: 'tx: first write with a hole (pages 1 and 3)',
    head: 0,
    request: (name) => tx(name, '?base=0&page_size=4096', batch([1, page(1)], [3, page(3)])),
    ...badRequest,
  },
  {
    name: 'tx: first write with commit past its pages',
    head: 0,
    request: (name) => tx(name, '?base=0&page_size=4096&commit=3', batch([1, page(1)], [2, page(2)])),
    ...badRequest,
  },

  // Tokens (DESIGN §4: 401 without a valid token, 403 with the wrong scope).
  {
    name: 'auth: push without Authorization',
    request: (name) => push(name, bytesOf(CHAIN[3]), { auth: null }),
    status: 401,
    code: 'UNAUTHORIZED',
  },
  {
    name: 'auth: push with an unknown token',
    request: (name) => push(name, bytesOf(CHAIN[3]), { auth: 'Bearer nope' }),
    status: 401,
    code: 'UNAUTHORIZED',
  },
  {
    name: 'auth: push with Basic auth',
    request: (name) => push(name, bytesOf(CHAIN[3]), { auth: 'Basic ZGV2LXRva2VuOg==' }),
    status: 401,
    code: 'UNAUTHORIZED',
  },
  {
    name: 'auth: push with the bare dev token',
    request: (name) => push(name, bytesOf(CHAIN[3]), { auth: 'dev-token' }),
    status: 401,
    code: 'UNAUTHORIZED',
  },
  {
    name: 'auth: DELETE without Authorization',
    request: (name) => send(db(name), { method: 'DELETE', auth: null }),
    status: 401,
    code: 'UNAUTHORIZED',
  },
  {
    name: 'auth: read token pushes',
    request: (name) => push(name, bytesOf(CHAIN[3]), { auth: bearer(TOKENS.read).authorization, fixtureTokens: true }),
    status: 403,
    code: 'FORBIDDEN',
  },
  {
    name: 'auth: read token writes pages',
    request: (name) => tx(name, '?base=3', batch([2, page(2)]), { auth: bearer(TOKENS.read).authorization, fixtureTokens: true }),
    status: 403,
    code: 'FORBIDDEN',
  },
  {
    name: 'auth: write token deletes',
    request: (name) => send(db(name), { method: 'DELETE', auth: bearer(TOKENS.write).authorization, fixtureTokens: true }),
    status: 403,
    code: 'FORBIDDEN',
  },
  {
    name: 'auth: write token adopts',
    request: (name) => send(`${db(name)}/adopt`, { method: 'POST', auth: bearer(TOKENS.write).authorization, fixtureTokens: true }),
    status: 403,
    code: 'FORBIDDEN',
  },
  {
    name: 'auth: other-database token pushes',
    request: (name) => push(name, bytesOf(CHAIN[3]), { auth: bearer(TOKENS.otherDb).authorization, fixtureTokens: true }),
    status: 403,
    code: 'FORBIDDEN',
  },

  // Methods.
  { name: 'PUT on .../ltx', request: (name) => send(`${db(name)}/ltx`, { method: 'PUT', body: bytesOf(CHAIN[3]) }), ...notFound },
  { name: 'PATCH on a database', request: (name) => send(db(name), { method: 'PATCH', body: '{}' }), ...notFound },
];

describe('malformed input', () => {
  const seen: { name: string; status: number }[] = [];
  let serial = 0;

  it('has at least 40 named cases with unique names', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_, c) => {
    const name = `mal-${String(serial++).padStart(3, '0')}`;
    const head = c.head ?? 3;
    for (const p of CHAIN.slice(0, head)) {
      const res = await push(name, bytesOf(p));
      expect(res.status).toBe(201);
      await res.body?.cancel();
    }
    await c.setup?.(name);
    const cap = c.maxDatabaseBytes;
    if (cap)
      await runInDurableObject(env.DATABASE.getByName(name), (instance: DatabaseDO) => void (instance.limits.maxDatabaseBytes = cap));
    const before = await snapshot(name);

    const res = await c.request(name);
    const text = await res.text();
    seen.push({ name: c.name, status: res.status });
    expect(res.status, text).toBe(c.status);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = JSON.parse(text) as { error: { code: string; message: string; details?: Record<string, unknown> } };
    expect(body.error.code, text).toBe(c.code);
    expect(typeof body.error.message).toBe('string');
    if (c.ltxCode) expect(body.error.details?.ltxCode, text).toBe(c.ltxCode);
    if (c.details) expect(body.error.details, text).toMatchObject(c.details);

    expect(await snapshot(name)).toEqual(before);
    if (c.setup) return;
    // The DO's page checksums are intact too: the next file of the chain still lands on its checksum.
    const again = await push(name, bytesOf(CHAIN[head]));
    expect(again.status).toBe(201);
    expect(((await again.json()) as { pos: { postApplyChecksum: string } }).pos.postApplyChecksum).toBe(HEAD_CHECKSUM[head]);
  });

  // Over the whole table, even when a case failed before its own status assertion.
  it('no case answered with a 5xx', () => {
    expect(seen.length).toBe(CASES.length);
    expect(seen.filter((s) => s.status >= 500)).toEqual([]);
  });
});

describe('oversized /tx body below the route', () => {
  // The route always uses DEFAULT_MAX_TX_BYTES (the corpus sends 64 MiB + 8 through it); smaller limits are options here.
  it('readBoundedBody answers PAYLOAD_TOO_LARGE past maxBytes, and stops draining an endless body at its limit', async () => {
    const frame = batch([1, page(1)]);
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(ctl) {
        pulled++;
        ctl.enqueue(frame);
      },
    });
    const deadlines = { idleMs: 10_000, totalMs: 60_000 };
    const read = await readBoundedBody(endless, 2 * frame.length - 1, deadlines, 4 * frame.length);
    expect(read).toMatchObject({ ok: false, code: 'PAYLOAD_TOO_LARGE' });
    expect(pulled).toBeLessThanOrEqual(8); // two kept, up to ~five drained, at most one queued ahead
    const exact = batch([1, page(1)], [2, page(2)]);
    expect(await readBoundedBody(new Blob([exact]).stream(), exact.length, deadlines)).toMatchObject({ ok: true });
  });

  it('the DO refuses a batch over its limit and changes nothing', async () => {
    const name = 'mal-oversized';
    for (const p of CHAIN.slice(0, 3)) await (await push(name, bytesOf(p))).body?.cancel();
    const before = await snapshot(name);
    const body = batch([2, page(2)], [3, page(3)]);
    const stub = env.DATABASE.getByName(name);
    await runInDurableObject(stub, (instance: DatabaseDO) => {
      instance.limits.maxTxBytes = body.length - 1;
    });
    try {
      const result = await stub.writePages(name, new Blob([body]).stream(), { base: 3n });
      expect(result).toMatchObject({ ok: false, error: { code: 'PAYLOAD_TOO_LARGE' } });
    } finally {
      await runInDurableObject(stub, (instance: DatabaseDO) => {
        instance.limits.maxTxBytes = DEFAULT_MAX_TX_BYTES;
      });
    }
    expect(await snapshot(name)).toEqual(before);
  });
});
