// /v1/databases happy paths: registry list and pagination, info, catalog listing, ranged raw reads, page-set writes, races, delete.

import { env, exports } from 'cloudflare:workers';
import { describe, expect, inject, it } from 'vitest';
import { ChecksumUpdate, DatabaseState, applyLTX } from '../../src/ltx/apply.ts';
import { databaseChecksum, formatHex64 } from '../../src/ltx/checksum.ts';
import { crcLinear } from '../../src/ltx/crc64.ts';
import { encodeLTX } from '../../src/ltx/encoder.ts';
import { makeHeader } from '../../src/ltx/header.ts';
import { MemoryDatabase } from '../../src/ltx/memory-database.ts';
import { encodePageBatch } from '../../src/replication/page-batch.ts';
import { registrySettled } from '../helpers/cron-sim.ts';

const BASE = 'https://ltx-edge.test';
const AUTH = { authorization: 'Bearer dev-token' };
const { manifest, files } = inject('ltxVectors');

interface Pos {
  txid: string;
  postApplyChecksum: string;
}
interface FileRow {
  level: number;
  minTXID: string;
  maxTXID: string;
  size: number;
  timestamp: string;
  postApplyChecksum: string;
}

function bytesOf(rel: string): Uint8Array {
  return Uint8Array.from(atob(files[rel]), (c) => c.charCodeAt(0));
}

function chain(set: string): string[] {
  return manifest.files
    .filter((f) => f.set === set)
    .map((f) => f.path)
    .sort();
}

function entry(path: string) {
  return manifest.files.find((f) => f.path === path)!;
}

const PS4096 = chain('block-ps4096');

function send(path: string, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(BASE + path, { ...init, headers: { ...AUTH, ...(init.headers as Record<string, string>) } });
}

function push(name: string, body: Uint8Array): Promise<Response> {
  return send(`/v1/databases/${name}/ltx`, { method: 'POST', body });
}

async function json<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return JSON.parse(text) as T;
}

/** Pushes the files, then waits until the registry lists the head they made (the DO announces it, at most every ANNOUNCE_GAP_MS). */
async function pushAll(name: string, paths: string[]): Promise<void> {
  let head = '';
  for (const p of paths) head = (await json<{ pos: Pos }>(await push(name, bytesOf(p)), 201)).pos.txid;
  await registrySettled(name, BigInt('0x' + head));
}

/** A page whose bytes depend on pgno and seed. */
function page(pgno: number, seed: number, pageSize = 4096): Uint8Array {
  const out = new Uint8Array(pageSize);
  for (let i = 0; i < pageSize; i++) out[i] = (i * 7 + pgno * 13 + seed * 101 + ((i * seed) >> 5)) & 0xff;
  return out;
}

const NO_SINK = { writePage: () => undefined, setCommit: () => undefined };

describe('GET /v1/databases (registry)', () => {
  it('lists pushed databases with position, page size, size and updated time', async () => {
    await pushAll('api-list-a', PS4096.slice(0, 3));
    await pushAll('api-list-b', PS4096.slice(0, 1));
    await pushAll('api-list-c', chain('block-ps512'));
    const body = await json<{ databases: { name: string; pos: Pos; pageSize: number; size: number; updatedAt: string }[] }>(
      await send('/v1/databases'),
      200,
    );
    const ours = body.databases.filter((d) => d.name.startsWith('api-list-'));
    const last = (p: string) => entry(p).db_after!;
    const ps512 = chain('block-ps512');
    expect(ours.map(({ updatedAt: _, ...rest }) => rest)).toEqual([
      {
        name: 'api-list-a',
        pos: { txid: '0000000000000003', postApplyChecksum: last(PS4096[2]).rolling_checksum },
        pageSize: 4096,
        size: 4096 * 10,
      },
      {
        name: 'api-list-b',
        pos: { txid: '0000000000000001', postApplyChecksum: last(PS4096[0]).rolling_checksum },
        pageSize: 4096,
        size: 4096 * 8,
      },
      {
        name: 'api-list-c',
        pos: { txid: formatHex64(BigInt(ps512.length)), postApplyChecksum: last(ps512.at(-1)!).rolling_checksum },
        pageSize: 512,
        size: 512 * last(ps512.at(-1)!).commit,
      },
    ]);
    for (const d of ours) expect(new Date(d.updatedAt).toISOString()).toBe(d.updatedAt);
  });

  it('pages with limit and after', async () => {
    for (const n of ['api-page-1', 'api-page-2', 'api-page-3']) await pushAll(n, PS4096.slice(0, 1));
    const names = async (query: string) => {
      const b = await json<{ databases: { name: string }[]; next?: string }>(await send(`/v1/databases?${query}`), 200);
      return { names: b.databases.map((d) => d.name), next: b.next };
    };
    expect(await names('after=api-page-&limit=2')).toEqual({ names: ['api-page-1', 'api-page-2'], next: 'api-page-2' });
    const rest = await names('after=api-page-2&limit=2');
    expect(rest.names[0]).toBe('api-page-3');
    expect(await names('after=api-page-1&limit=1')).toEqual({ names: ['api-page-2'], next: 'api-page-2' });
    // Past the last name: empty, no cursor.
    expect(await names('after=zzzz')).toEqual({ names: [], next: undefined });
  });

  it('filters by name prefix, paging within it, and refuses a prefix no name can start with', async () => {
    for (const n of ['api-prefix-a', 'api-prefix-b', 'api-prefix-c', 'api-prefixless', 'api-prefiw']) await pushAll(n, PS4096.slice(0, 1));
    const names = async (query: string) => {
      const b = await json<{ databases: { name: string }[]; next?: string }>(await send(`/v1/databases?${query}`), 200);
      return { names: b.databases.map((d) => d.name), next: b.next };
    };
    expect(await names('prefix=api-prefix-')).toEqual({ names: ['api-prefix-a', 'api-prefix-b', 'api-prefix-c'], next: undefined });
    expect(await names('prefix=api-prefix-&limit=2')).toEqual({ names: ['api-prefix-a', 'api-prefix-b'], next: 'api-prefix-b' });
    expect(await names('prefix=api-prefix-&after=api-prefix-b')).toEqual({ names: ['api-prefix-c'], next: undefined });
    expect((await names('prefix=api-prefix')).names).toEqual(['api-prefix-a', 'api-prefix-b', 'api-prefix-c', 'api-prefixless']);
    expect(await names('prefix=api-prefix-z')).toEqual({ names: [], next: undefined });
    for (const bad of ['API', '-x', '%20', 'a'.repeat(64), 'a/b']) {
      const res = await send(`/v1/databases?prefix=${bad}`);
      expect(res.status, bad).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('BAD_REQUEST');
    }
  });
});

describe('GET /v1/databases/:db and its catalog', () => {
  it('reports position, page size, commit, timestamps and files per level', async () => {
    await pushAll('api-info', PS4096);
    const info = await json<Record<string, unknown>>(await send('/v1/databases/api-info'), 200);
    const last = entry(PS4096.at(-1)!);
    expect(info).toMatchObject({
      name: 'api-info',
      pos: { txid: last.decoded.header.max_txid, postApplyChecksum: last.db_after!.rolling_checksum },
      pageSize: 4096,
      commit: last.db_after!.commit,
      size: 4096 * last.db_after!.commit,
      levels: [{ level: 0, files: PS4096.length, bytes: PS4096.reduce((n, p) => n + entry(p).decoded.size, 0) }],
      pendingWrites: 0,
    });
    expect(Date.parse(info.createdAt as string)).toBeLessThanOrEqual(Date.parse(info.updatedAt as string));
  });

  it('404 for a database never written', async () => {
    const body = await json<{ error: { code: string } }>(await send('/v1/databases/api-never'), 404);
    expect(body.error.code).toBe('NOT_FOUND');
  });

  it('lists the catalog with level, after and limit', async () => {
    await pushAll('api-cat', PS4096);
    const list = async (q: string) => (await json<{ files: FileRow[] }>(await send(`/v1/databases/api-cat/ltx${q}`), 200)).files;
    const all = await list('');
    expect(all).toEqual(
      PS4096.map((p) => {
        const m = entry(p);
        return {
          level: 0,
          minTXID: m.decoded.header.min_txid,
          maxTXID: m.decoded.header.max_txid,
          size: m.decoded.size,
          timestamp: new Date(m.decoded.header.timestamp_ms).toISOString(),
          postApplyChecksum: m.db_after!.rolling_checksum,
        };
      }),
    );
    expect(await list('?level=0')).toEqual(all);
    expect(await list('?level=0000')).toEqual(all);
    expect(await list('?level=9')).toEqual([]);
    expect(await list('?after=0000000000000003')).toEqual(all.filter((f) => BigInt('0x' + f.minTXID) > 3n));
    expect(await list('?after=3')).toEqual(await list('?after=0000000000000003'));
    expect(await list('?level=0&after=0000000000000001&limit=2')).toEqual(all.slice(1, 3));
    expect(await list('?after=ffffffffffffffff')).toEqual([]);
  });
});

describe('GET .../ltx/:level/:file', () => {
  const path = PS4096[2];
  const name = path.split('/').pop()!;
  const url = `/v1/databases/api-raw/ltx/0000/${name}`;
  const whole = bytesOf(path);
  const size = whole.length;

  async function ranged(range: string) {
    const res = await send(url, { headers: { range } });
    return {
      status: res.status,
      contentRange: res.headers.get('content-range'),
      length: res.headers.get('content-length'),
      bytes: new Uint8Array(await res.arrayBuffer()),
    };
  }

  it('serves the whole file with length, etag and immutable caching', async () => {
    await pushAll('api-raw', PS4096.slice(0, 3));
    const res = await send(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(res.headers.get('content-length')).toBe(String(size));
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    expect(res.headers.get('etag')).toMatch(/^".+"$/);
    expect(res.headers.get('cache-control')).toContain('immutable');
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(whole);
  });

  it.each([
    ['first-last', 'bytes=0-99', 0, 100],
    ['middle', 'bytes=100-199', 100, 100],
    ['open-ended', 'bytes=4000-', 4000, size - 4000],
    ['last byte', `bytes=${size - 1}-${size - 1}`, size - 1, 1],
    ['last clamped to the end', `bytes=10-${size + 1000}`, 10, size - 10],
    ['suffix', 'bytes=-8', size - 8, 8],
    ['suffix of the trailer and index', 'bytes=-40', size - 40, 40],
    ['suffix longer than the file', `bytes=-${size + 5}`, 0, size],
    ['unit in upper case', 'Bytes=0-9', 0, 10],
  ])('Range %s → 206 with Content-Range', async (_, range, offset, length) => {
    const r = await ranged(range);
    expect(r.status).toBe(206);
    expect(r.contentRange).toBe(`bytes ${offset}-${offset + length - 1}/${size}`);
    expect(r.length).toBe(String(length));
    expect(r.bytes).toEqual(whole.slice(offset, offset + length));
  });

  it('ignores a Range in another unit (RFC 9110 §14.2)', async () => {
    const r = await ranged('items=0-1');
    expect(r.status).toBe(200);
    expect(r.contentRange).toBeNull();
    expect(r.bytes).toEqual(whole);
  });

  it('serves HEAD with the length and no body', async () => {
    const res = await send(url, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe(String(size));
    expect((await res.arrayBuffer()).byteLength).toBe(0);
  });
});

/** The test's own model of a database: pages by pgno, and its size. */
class Model {
  readonly pageSize: number;
  pages = new Map<number, Uint8Array>();
  commit = 0;

  constructor(pageSize: number) {
    this.pageSize = pageSize;
  }

  write(pages: [number, Uint8Array][], commit?: number): void {
    for (const [pgno, data] of pages) this.pages.set(pgno, data);
    this.commit = commit ?? Math.max(this.commit, ...pages.map(([p]) => p));
    for (const pgno of [...this.pages.keys()]) if (pgno > this.commit) this.pages.delete(pgno);
  }

  /** The rolling checksum from every page, straight from the definition (no incremental update). */
  checksum(): string {
    const zero = new Uint8Array(this.pageSize);
    return formatHex64(databaseChecksum(this.pageSize, this.commit, (pgno) => this.pages.get(pgno) ?? zero));
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.commit * this.pageSize);
    for (const [pgno, data] of this.pages) out.set(data, (pgno - 1) * this.pageSize);
    return out;
  }
}

function tx(name: string, query: string, pages: [number, Uint8Array][]): Promise<Response> {
  return send(`/v1/databases/${name}/tx${query}`, { method: 'POST', body: encodePageBatch(pages.map(([pgno, data]) => ({ pgno, data }))) });
}

describe('POST .../tx page-set writes', () => {
  it('first write with page_size, then incremental writes on base=head; the files apply to the same checksum and bytes', async () => {
    const name = 'api-tx';
    const model = new Model(4096);
    const steps: { query: (head: string) => string; pages: [number, Uint8Array][]; commit?: number }[] = [
      { query: () => '?base=0&page_size=4096', pages: [1, 2, 3, 4, 5].map((p) => [p, page(p, 1)]) },
      {
        query: (h) => `?base=${h}`,
        pages: [
          [2, page(2, 2)],
          [4, page(4, 2)],
        ],
      },
      // Grown to 8 with page 7 written: pages 6 and 8 are zeros.
      { query: (h) => `?base=${h}&commit=8`, pages: [[7, page(7, 3)]], commit: 8 },
      // Shrunk to 3.
      { query: (h) => `?base=${h}&commit=3`, pages: [[1, page(1, 4)]], commit: 3 },
      // Grown to the highest page (default commit): 4 and 5 come back as zeros.
      { query: (h) => `?base=${h}`, pages: [[6, page(6, 5)]] },
      // page_size may be repeated when it matches; the TXID in base may be short hex.
      {
        query: (h) => `?base=${BigInt('0x' + h).toString(16)}&page_size=4096`,
        pages: [
          [3, page(3, 6)],
          [5, page(5, 6)],
        ],
      },
    ];
    let head = '0000000000000000';
    for (const [i, step] of steps.entries()) {
      const { pos } = await json<{ pos: Pos }>(await tx(name, step.query(head), step.pages), 201);
      model.write(step.pages, step.commit);
      expect(pos.txid).toBe(formatHex64(BigInt(i + 1)));
      expect(pos.postApplyChecksum, `step ${i + 1}`).toBe(model.checksum());
      head = pos.txid;
    }
    const info = await json<{ pos: Pos; commit: number; pageSize: number }>(await send(`/v1/databases/${name}`), 200);
    expect(info).toMatchObject({ pos: { txid: head, postApplyChecksum: model.checksum() }, commit: model.commit, pageSize: 4096 });

    // Independently: fetch every file back and apply it.
    const { files: rows } = await json<{ files: FileRow[] }>(await send(`/v1/databases/${name}/ltx`), 200);
    expect(rows.map((r) => r.maxTXID)).toEqual(steps.map((_, i) => formatHex64(BigInt(i + 1))));
    const state = new DatabaseState();
    const db = new MemoryDatabase();
    for (const r of rows) {
      const res = await send(`/v1/databases/${name}/ltx/0000/${r.minTXID}-${r.maxTXID}.ltx`);
      expect(res.status).toBe(200);
      await applyLTX(state, [new Uint8Array(await res.arrayBuffer())], db);
      expect(formatHex64(state.checksum)).toBe(r.postApplyChecksum);
    }
    expect(formatHex64(state.checksum)).toBe(model.checksum());
    expect(db.commit).toBe(model.commit);
    expect(db.toBytes()).toEqual(model.bytes());
  });

  it('16 concurrent writers on the same base: exactly one 201, the rest 409 CONFLICT at the winner', async () => {
    const name = 'api-tx-race';
    await json(
      await tx(name, '?base=0&page_size=4096', [
        [1, page(1, 0)],
        [2, page(2, 0)],
      ]),
      201,
    );
    const responses = await Promise.all(Array.from({ length: 16 }, (_, i) => tx(name, '?base=1', [[2, page(2, 100 + i)]])));
    const bodies = await Promise.all(
      responses.map((r) => r.json() as Promise<{ pos?: Pos; error?: { code: string; details: { pos: Pos } } }>),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(15);
    const winner = bodies[statuses.indexOf(201)].pos!;
    expect(winner.txid).toBe('0000000000000002');
    for (const b of bodies.filter((b) => b.error)) {
      expect(b.error!.code).toBe('CONFLICT');
      expect(b.error!.details.pos).toEqual(winner);
    }
    const { files: rows } = await json<{ files: FileRow[] }>(await send(`/v1/databases/${name}/ltx`), 200);
    expect(rows).toHaveLength(2);
  });

  it('16 concurrent pushes of the same next file: one 201, the rest 200', async () => {
    const name = 'api-push-same';
    await pushAll(name, PS4096.slice(0, 3));
    const body = bytesOf(PS4096[3]);
    const responses = await Promise.all(Array.from({ length: 16 }, () => push(name, body)));
    const bodies = await Promise.all(responses.map((r) => r.json() as Promise<{ pos: Pos }>));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 200)).toHaveLength(15);
    const want = { txid: '0000000000000004', postApplyChecksum: entry(PS4096[3]).db_after!.rolling_checksum };
    for (const b of bodies) expect(b.pos).toEqual(want);
    const listed = await env.LTX_BUCKET.list({ prefix: `db/${name}/` });
    expect(listed.objects).toHaveLength(4);
  });

  it('16 concurrent pushes of different files for the same next TXID: one 201, the rest 409; R2 holds the winner', async () => {
    const name = 'api-push-diff';
    await pushAll(name, PS4096.slice(0, 3));
    const candidates: Uint8Array[] = [];
    for (let i = 0; i < 16; i++) {
      const state = new DatabaseState();
      for (const p of PS4096.slice(0, 3)) await applyLTX(state, [bytesOf(p)], NO_SINK);
      const header = makeHeader({
        pageSize: 4096,
        commit: 10,
        minTXID: 4n,
        maxTXID: 4n,
        timestamp: 1_700_000_100_000 + i,
        preApplyChecksum: state.checksum,
      });
      const pages = [{ pgno: 3, data: page(3, 200 + i) }];
      const update = new ChecksumUpdate(state, header);
      for (const p of pages) update.page(p.pgno, crcLinear(p.data));
      candidates.push(encodeLTX(header, pages, update.finish()));
    }
    const responses = await Promise.all(candidates.map((c) => push(name, c)));
    const bodies = await Promise.all(
      responses.map((r) => r.json() as Promise<{ pos?: Pos; error?: { code: string; details: { pos: Pos } } }>),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(15);
    const won = statuses.indexOf(201);
    for (const b of bodies.filter((b) => b.error)) {
      expect(b.error!.code).toBe('POSITION_MISMATCH');
      expect(b.error!.details.pos).toEqual(bodies[won].pos);
    }
    const obj = await env.LTX_BUCKET.get(`db/${name}/0000/0000000000000004-0000000000000004.ltx`);
    expect(new Uint8Array(await obj!.arrayBuffer())).toEqual(candidates[won]);
  });
});

describe('DELETE /v1/databases/:db', () => {
  it('removes every object under the prefix and the registry entry; a new push starts from an empty database', async () => {
    const name = 'api-del';
    await pushAll(name, PS4096);
    await pushAll(`${name}2`, PS4096.slice(0, 1)); // "api-del2" shares the string prefix, not the key prefix
    expect((await env.LTX_BUCKET.list({ prefix: `db/${name}/` })).objects).toHaveLength(PS4096.length);

    const deleted = await json<{ deleted: number }>(await send(`/v1/databases/${name}`, { method: 'DELETE' }), 200);
    expect(deleted).toEqual({ deleted: PS4096.length });
    expect((await env.LTX_BUCKET.list({ prefix: `db/${name}/` })).objects).toEqual([]);
    expect((await env.LTX_BUCKET.list({ prefix: `db/${name}2/` })).objects).toHaveLength(1);
    const registry = await json<{ databases: { name: string }[] }>(await send('/v1/databases'), 200);
    expect(registry.databases.map((d) => d.name)).not.toContain(name);
    expect(registry.databases.map((d) => d.name)).toContain(`${name}2`);
    expect((await send(`/v1/databases/${name}`)).status).toBe(404);
    expect(await json(await send(`/v1/databases/${name}/ltx`), 200)).toEqual({ files: [] });
    expect((await send(`/v1/databases/${name}`, { method: 'DELETE' })).status).toBe(404);

    // Empty again: a non-snapshot is refused at position zero, a snapshot starts over.
    const refused = await json<{ error: { code: string; details: { pos: Pos } } }>(await push(name, bytesOf(PS4096[1])), 409);
    expect(refused.error).toMatchObject({ code: 'POSITION_MISMATCH', details: { pos: { txid: '0000000000000000' } } });
    const { pos } = await json<{ pos: Pos }>(await push(name, bytesOf(PS4096[0])), 201);
    expect(pos).toEqual({ txid: '0000000000000001', postApplyChecksum: entry(PS4096[0]).db_after!.rolling_checksum });
    const info = await json<{ levels: unknown[]; commit: number }>(await send(`/v1/databases/${name}`), 200);
    expect(info).toMatchObject({ commit: 8, levels: [{ level: 0, files: 1 }] });
    // A page-set write after delete sees the fresh head, not the old one.
    await json(await tx(name, '?base=1', [[2, page(2, 9)]]), 201);
  });
});
