// /litefs: LiteFS sessions replayed with its backup client's logic — snapshot push, v1 and current pushes, 256-file compactions, mismatch → snapshot restore, HWM — plus LiteVFS reads, errors, auth, clusters.

import { env, exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { app } from '../../src/app.ts';
import { CHECKSUM_FLAG } from '../../src/ltx/constants.ts';
import { decodeLTX } from '../../src/ltx/decoder.ts';
import { makeHeader } from '../../src/ltx/header.ts';
import { decodeV1 } from '../../src/ltx/v1.ts';
import { encodeV1 } from '../../src/ltx/v1-encoder.ts';
import { decodePageBatch } from '../../src/replication/page-batch.ts';
import { TOKEN_SPECS, TOKENS } from '../helpers/auth-matrix.ts';
import { LiteFSClient, type LiteFSClientOptions, type Pos } from '../helpers/litefs-client.ts';
import { prng } from '../helpers/prng.ts';
import { buildV1 } from '../helpers/v1-builder.ts';

const BASE = 'https://ltx-edge.test';
const PS = 4096;
const hex = (v: bigint): string => v.toString(16).padStart(16, '0');
const fetchWorker = (url: string, init?: RequestInit): Promise<Response> => exports.default.fetch(url, init);

function node(opts: Partial<LiteFSClientOptions> = {}): LiteFSClient {
  return new LiteFSClient({ fetch: fetchWorker, url: `${BASE}/litefs`, token: 'dev-token', ...opts });
}

/** Pages that look like a database's: mostly one byte, some noise (compressible, not trivial). */
function pageOf(seed: number): Uint8Array {
  const r = prng(seed);
  const p = new Uint8Array(PS).fill(seed & 0xff);
  for (let i = 0; i < 200; i++) p[r.int(PS)] = r.int(256);
  return p;
}

let seq = 1;
/** A transaction touching `n` pages among 1..max (ascending, distinct). */
function changes(n: number, max: number): { pgno: number; data: Uint8Array }[] {
  const r = prng(seq * 7919);
  const set = new Set<number>();
  while (set.size < Math.min(n, max)) set.add(1 + r.int(max));
  return [...set].sort((a, b) => a - b).map((pgno) => ({ pgno, data: pageOf(seq++ * 131 + pgno) }));
}

async function raw(method: string, path: string, init: { token?: string | null; body?: BodyInit } = {}): Promise<Response> {
  const headers: Record<string, string> = {};
  if (init.token !== null) headers.authorization = init.token ?? 'dev-token';
  return fetchWorker(`${BASE}/litefs${path}`, { method, headers, body: init.body });
}

async function json<T = Record<string, unknown>>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

function posJSON(p: Pos): { txid: string; postApplyChecksum: string } {
  return { txid: hex(p.txid), postApplyChecksum: hex(p.checksum) };
}

/** Everything the server says the database is, compared with the node's own bytes. */
async function expectSameDatabase(c: LiteFSClient, db: string, ours = db): Promise<void> {
  const local = c.bytes(db);
  const pos = c.dbs.get(db)!.pos;
  const cluster = c.opts.cluster ? `&cluster=${c.opts.cluster}` : '';
  const sqlite = await raw('GET', `/db/snapshot?db=${db}&format=sqlite${cluster}`);
  expect(sqlite.status).toBe(200);
  expect(new Uint8Array(await sqlite.arrayBuffer())).toEqual(local);
  const v1 = await raw('GET', `/db/snapshot?db=${db}${cluster}`);
  expect(v1.status).toBe(200);
  const snap = decodeV1(new Uint8Array(await v1.arrayBuffer()));
  expect(snap.header).toMatchObject({ flags: 1, minTXID: 1n, maxTXID: pos.txid, pageSize: PS, commit: local.length / PS });
  expect(snap.trailer.postApplyChecksum).toBe(pos.checksum);
  const rebuilt = new Uint8Array(local.length);
  for (const p of snap.pages) rebuilt.set(p.data, (p.pgno - 1) * PS);
  expect(rebuilt).toEqual(local);
  const viaV1 = await fetchWorker(`${BASE}/v1/databases/${ours}/snapshot?format=sqlite`, {
    headers: { authorization: 'Bearer dev-token' },
  });
  expect(new Uint8Array(await viaV1.arrayBuffer())).toEqual(local);
  const commit = local.length / PS;
  const list = Array.from({ length: commit }, (_, i) => i + 1).join(',');
  const pages = await raw('GET', `/db/page?db=${db}&pos=${hex(pos.txid)}/${hex(pos.checksum)}&pgno=${list}${cluster}`);
  expect(pages.status).toBe(200);
  const body = await json<{ pages: { pgno: number; data: string }[] }>(pages);
  expect(body.pages.map((p) => p.pgno)).toEqual(Array.from({ length: commit }, (_, i) => i + 1));
  for (const p of body.pages) {
    expect(Uint8Array.from(atob(p.data), (ch) => ch.charCodeAt(0))).toEqual(local.subarray((p.pgno - 1) * PS, p.pgno * PS));
  }
  const batch = await fetchWorker(`${BASE}/v1/databases/${ours}/pages?pgno=1-${commit}`, {
    headers: { authorization: 'Bearer dev-token' },
  });
  const decoded = decodePageBatch(new Uint8Array(await batch.arrayBuffer()), PS);
  if (!decoded.ok) throw new Error(decoded.message);
  expect(decoded.pages.map((p) => p.data)).toEqual(Array.from({ length: commit }, (_, i) => local.subarray(i * PS, (i + 1) * PS)));
}

describe('a LiteFS session', () => {
  it('snapshot push, incremental v1 (compressed, plain) and current pushes, HWM, re-push, reads back byte-identical', async () => {
    const c = node({ cluster: 'session' });
    const db = 'main.db';
    c.write(
      db,
      Array.from({ length: 8 }, (_, i) => ({ pgno: i + 1, data: pageOf(1000 + i) })),
    );
    c.write(db, changes(3, 8));
    c.write(db, changes(2, 10), { commit: 10 }); // grows to 10 pages
    await c.sync();
    expect(c.events).toEqual([{ db, kind: 'snapshot', minTXID: 1n, maxTXID: 3n, status: 201, hwm: 3n }]);

    // GET /pos: lowercase keys, 16 hex digits.
    const posRes = await raw('GET', '/pos?cluster=session');
    const posText = await posRes.text();
    expect(JSON.parse(posText)[db]).toEqual(posJSON(c.dbs.get(db)!.pos));
    expect(Object.keys(JSON.parse(posText)[db])).toEqual(['txid', 'postApplyChecksum']);

    // The snapshot is stored as a current-format file under the Litestream layout, header kept.
    const obj = await env.LTX_BUCKET.get(`db/session--${db}/0000/${hex(1n)}-${hex(3n)}.ltx`);
    const stored = decodeLTX(new Uint8Array(await obj!.arrayBuffer()));
    expect(stored.header).toMatchObject({ flags: 0, minTXID: 1n, maxTXID: 3n, commit: 10, nodeID: 1n });
    expect(stored.trailer.postApplyChecksum).toBe(c.dbs.get(db)!.pos.checksum);

    for (let i = 0; i < 3; i++) c.write(db, changes(2, 10));
    await c.sync(); // 4-6, v1 with an LZ4 page block
    c.opts.compress = false;
    const plain = [c.write(db, changes(3, 12)), c.write(db, changes(1, 12))];
    await c.sync(); // 7-8, v1 uncompressed (told from v3 by its first frame)
    c.opts.format = 'current';
    c.write(db, changes(2, 12));
    c.write(db, changes(1, 6), { commit: 9 }); // shrinks
    await c.sync(); // 9-10, a v3 block file
    expect(c.events.slice(1)).toEqual([
      { db, kind: 'push', minTXID: 4n, maxTXID: 6n, status: 201, hwm: 6n },
      { db, kind: 'push', minTXID: 7n, maxTXID: 8n, status: 201, hwm: 8n },
      { db, kind: 'push', minTXID: 9n, maxTXID: 10n, status: 201, hwm: 10n },
    ]);
    expect(plain[1].txid).toBe(8n);
    await c.sync();
    expect(c.events.at(-1)).toEqual({ db, kind: 'in-sync' });

    // A re-push of a committed file (a lost response, retried) succeeds, with the current HWM.
    const again = concatFiles(c, db, 4n, 6n);
    const res = await raw('POST', `/db/tx?db=${db}&cluster=session`, { body: streamOf(again) });
    expect(res.status).toBe(200);
    expect(res.headers.get('Litefs-Hwm')).toBe(hex(10n));
    await res.body?.cancel();

    await expectSameDatabase(c, db, `session--${db}`);
  });

  it('a backlog of 300 transactions goes up in two pushes of at most 256, the HWM advancing', async () => {
    const c = node({ cluster: 'backlog' });
    const db = 'main.db';
    c.write(
      db,
      Array.from({ length: 6 }, (_, i) => ({ pgno: i + 1, data: pageOf(2000 + i) })),
    );
    await c.sync();
    for (let i = 0; i < 300; i++) c.write(db, changes(1 + (i % 3), 6 + (i % 5)));
    await c.sync();
    await c.sync();
    expect(c.events.map((e) => [e.kind, e.minTXID, e.maxTXID, e.hwm])).toEqual([
      ['snapshot', 1n, 1n, 1n],
      ['push', 2n, 257n, 257n],
      ['push', 258n, 301n, 301n],
    ]);
    const listing = await fetchWorker(`${BASE}/v1/databases/backlog--${db}/ltx?level=0`, {
      headers: { authorization: 'Bearer dev-token' },
    });
    const { files } = await json<{ files: { minTXID: string; maxTXID: string }[] }>(listing);
    expect(files.map((f) => [f.minTXID, f.maxTXID])).toEqual([
      [hex(1n), hex(1n)],
      [hex(2n), hex(257n)],
      [hex(258n), hex(301n)],
    ]);
    await expectSameDatabase(c, db, `backlog--${db}`);
  });

  it('a forced mismatch recovers through the snapshot (out-of-sync, no-local, chksum-mismatch, remote-ahead)', async () => {
    const db = 'main.db';
    const cluster = 'shared';
    const a = node({ cluster });
    a.write(
      db,
      Array.from({ length: 5 }, (_, i) => ({ pgno: i + 1, data: pageOf(3000 + i) })),
    );
    a.write(db, changes(2, 5));
    a.write(db, changes(2, 5));
    await a.sync();

    // Node B has no copy: the position map lists the database, so it restores it.
    const b = node({ cluster });
    await b.sync();
    expect(b.events).toEqual([{ db, kind: 'restore', maxTXID: 3n, reason: 'no-local' }]);
    expect(b.bytes(db)).toEqual(a.bytes(db));

    // B writes TXID 4 and pushes it; A writes its own TXID 4 and pushes from its stale map: 409.
    b.write(db, changes(2, 7));
    await b.sync();
    const stale = a.write(db, changes(3, 5));
    const staleFile = a.dbs.get(db)!.ltx.get(4n)!;
    await a.sync();
    expect(a.events.at(-1)).toEqual({ db, kind: 'restore', maxTXID: 4n, reason: 'out-of-sync' });
    expect(a.bytes(db)).toEqual(b.bytes(db));
    expect(a.dbs.get(db)!.pos).toEqual(b.dbs.get(db)!.pos);
    expect(a.dbs.get(db)!.pos).not.toEqual(stale);

    // The 409 as LiteFS reads it.
    const res = await raw('POST', `/db/tx?db=${db}&cluster=${cluster}`, { body: streamOf(staleFile) });
    expect(res.status).toBe(409);
    expect(await res.json()).toEqual({ code: 'EPOSMISMATCH', error: 'position mismatch', pos: posJSON(b.dbs.get(db)!.pos) });

    // Same TXID, another checksum: B wrote TXID 5 locally while A pushed its own TXID 5.
    a.write(db, changes(2, 7));
    await a.sync();
    b.write(db, changes(1, 7));
    b.resetPosMap();
    await b.sync();
    expect(b.events.at(-1)).toEqual({ db, kind: 'restore', maxTXID: 5n, reason: 'chksum-mismatch' });

    // The backup ahead of the node: C restored at 5, A pushes 6, C comes back.
    const c = node({ cluster });
    await c.sync();
    a.write(db, changes(2, 7));
    await a.sync();
    c.resetPosMap();
    await c.sync();
    expect(c.events.at(-1)).toEqual({ db, kind: 'restore', maxTXID: 6n, reason: 'remote-ahead' });

    // And the chain goes on from the restored node.
    c.write(db, changes(2, 9));
    await c.sync();
    expect(c.events.at(-1)).toMatchObject({ kind: 'push', minTXID: 7n, maxTXID: 7n, status: 201, hwm: 7n });
    await expectSameDatabase(c, db, `${cluster}--${db}`);
  });
});

/** The node's local files min..max compacted into one push body, as its sync would send them. */
function concatFiles(c: LiteFSClient, db: string, min: bigint, max: bigint): Uint8Array {
  const files = [];
  for (let t = min; t <= max; t++) files.push(decodeV1(c.dbs.get(db)!.ltx.get(t)!));
  const pages = new Map<number, Uint8Array>();
  for (const f of files) for (const p of f.pages) pages.set(p.pgno, p.data);
  const last = files[files.length - 1].header;
  const header = makeHeader({ ...last, flags: 1, minTXID: min, preApplyChecksum: files[0].header.preApplyChecksum, nodeID: 0n });
  const sorted = [...pages]
    .filter(([p]) => p <= header.commit)
    .sort((x, y) => x[0] - y[0])
    .map(([pgno, data]) => ({ pgno, data }));
  return encodeV1(header, sorted, files[files.length - 1].trailer.postApplyChecksum);
}

/** A request body without a Content-Length, in 1 KiB chunks. */
function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + 1024));
      at += 1024;
    },
  });
}

describe('paths', () => {
  it('every route answers under /litefs and at the root (stock LiteFS and LiteVFS drop the URL path)', async () => {
    // The node above talks to the root (its URL's /litefs is dropped, as lfsc.NewBackupClient does).
    const c = node({ cluster: 'paths', url: `${BASE}/litefs/ignored` });
    c.write('main.db', [{ pgno: 1, data: pageOf(6000) }]);
    await c.sync();
    expect(c.events).toEqual([{ db: 'main.db', kind: 'snapshot', minTXID: 1n, maxTXID: 1n, status: 201, hwm: 1n }]);
    const viaRoot = await json(await fetchWorker(`${BASE}/pos?cluster=paths`, { headers: { authorization: 'dev-token' } }));
    expect(await json(await raw('GET', '/pos?cluster=paths'))).toEqual(viaRoot);
    // Only /litefs/* has a LiteFS-shaped 404; elsewhere the API's own.
    expect(await json(await raw('GET', '/db/nothing'))).toMatchObject({ code: 'ENOTFOUND' });
    const other = await fetchWorker(`${BASE}/nothing`, { headers: { authorization: 'dev-token' } });
    expect(other.status).toBe(404);
    expect(await json(other)).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });
});

describe('errors in LiteFS shape', () => {
  const header = (over: Partial<Parameters<typeof makeHeader>[0]> = {}) =>
    makeHeader({ flags: 1, pageSize: PS, commit: 2, minTXID: 1n, maxTXID: 1n, ...over });
  const snapPages = [
    { pgno: 1, data: pageOf(1) },
    { pgno: 2, data: pageOf(2) },
  ];

  it.each<[string, () => Uint8Array, number, Record<string, unknown>]>([
    [
      'an incremental onto an empty database',
      () => encodeV1(header({ minTXID: 2n, maxTXID: 2n, preApplyChecksum: CHECKSUM_FLAG | 1n }), [snapPages[0]], CHECKSUM_FLAG | 2n),
      409,
      { code: 'EPOSMISMATCH', pos: posJSON({ txid: 0n, checksum: 0n }) },
    ],
    [
      'a v1 file checksum',
      () => buildV1({ header: header(), pages: snapPages, postApplyChecksum: CHECKSUM_FLAG, fileChecksum: CHECKSUM_FLAG | 5n }),
      422,
      { code: 'EBADCHECKSUM', ltxCode: 'LTX_FILE_CHECKSUM_MISMATCH' },
    ],
    [
      'a v1 reserved header byte',
      () => buildV1({ header: header(), pages: snapPages, postApplyChecksum: CHECKSUM_FLAG, headerPatch: [[95, 1]] }),
      422,
      { code: 'EBADHEADER', ltxCode: 'LTX_RESERVED_SET' },
    ],
    [
      'v1 pages out of order',
      () => buildV1({ header: header({ flags: 0 }), pages: [...snapPages].reverse(), postApplyChecksum: CHECKSUM_FLAG }),
      422,
      { code: 'EBADPAGE', ltxCode: 'LTX_PAGE_ORDER' },
    ],
    ['a truncated v1 file', () => encodeV1(header(), snapPages).slice(0, -5), 422, { code: 'EBADLTX', ltxCode: 'LTX_TRUNCATED' }],
    ['a v3 file with a bad header', () => decodeLTXBytesWithFlag(), 422, { code: 'EBADHEADER', ltxCode: 'LTX_BAD_FLAGS' }],
  ])('%s', async (_name, make, status, body) => {
    const db = `err-${seq++}.db`;
    const res = await raw('POST', `/db/tx?db=${db}`, { body: streamOf(make()) });
    expect(res.status).toBe(status);
    const got = await json(res);
    expect(got).toMatchObject(body);
    expect(typeof got.error).toBe('string');
    expect(res.headers.get('Litefs-Hwm')).toBeNull();
    const listed = await env.LTX_BUCKET.list({ prefix: `db/${db}/` });
    expect(listed.objects).toEqual([]);
    expect(await json(await raw('GET', '/pos'))).not.toHaveProperty(db);
  });

  it('parameters, unknown databases and routes', async () => {
    const cases: [string, string, number, string][] = [
      ['GET', '/db/snapshot', 400, 'EINVAL'],
      ['GET', '/db/snapshot?db=Upper.db', 400, 'EINVAL'],
      ['GET', '/db/snapshot?db=a--b', 400, 'EINVAL'],
      ['GET', '/db/snapshot?db=x.db&cluster=a--b', 400, 'EINVAL'],
      ['GET', '/db/snapshot?db=never-written.db', 404, 'ENOTFOUND'],
      ['GET', '/db/snapshot?db=never-written.db&format=zip', 400, 'EINVAL'],
      ['GET', '/db/page?db=never-written.db&pos=0000000000000001/8000000000000000&pgno=1', 404, 'ENOTFOUND'],
      ['GET', '/db/page?db=x.db&pos=12&pgno=1', 400, 'EINVAL'],
      ['GET', '/db/sync?db=never-written.db', 404, 'ENOTFOUND'],
      ['GET', '/nope', 404, 'ENOTFOUND'],
    ];
    for (const [method, path, status, code] of cases) {
      const res = await raw(method, path);
      expect([path, res.status]).toEqual([path, status]);
      expect(await json(res)).toMatchObject({ code });
    }
  });
});

/** A current-format snapshot whose header flags are invalid (0x4), with a valid file checksum. */
function decodeLTXBytesWithFlag(): Uint8Array {
  const h = makeHeader({ flags: 4, pageSize: PS, commit: 1, minTXID: 1n, maxTXID: 1n });
  const bytes = buildV1({
    header: { ...h, flags: 0 },
    pages: [{ pgno: 1, data: pageOf(9) }],
    postApplyChecksum: CHECKSUM_FLAG,
    compress: false,
  });
  bytes[7] = 4; // flags 0x4 → neither v1 (0x1) nor v3-valid: sniffed as current, refused by its decoder
  return bytes;
}

describe('LiteVFS reads: /db/page and /db/sync', () => {
  it('pages at a position, 409 at one that is not ours; sync lists the pages changed since a position', async () => {
    const c = node();
    const db = 'vfs.db';
    c.write(
      db,
      Array.from({ length: 6 }, (_, i) => ({ pgno: i + 1, data: pageOf(4000 + i) })),
    );
    await c.sync();
    const p1 = c.dbs.get(db)!.pos;
    const old = c.bytes(db);
    c.write(db, [
      { pgno: 2, data: pageOf(4100) },
      { pgno: 5, data: pageOf(4101) },
    ]);
    c.write(db, [{ pgno: 7, data: pageOf(4102) }]);
    await c.sync();
    const head = c.dbs.get(db)!.pos;

    // Pages at the old position are the old pages; past its size they are left out.
    const at1 = await json<{ pages: { pgno: number; data: string }[] }>(
      await raw('GET', `/db/page?db=${db}&pos=${hex(p1.txid)}/${hex(p1.checksum)}&pgno=2,7`),
    );
    expect(at1.pages.map((p) => p.pgno)).toEqual([2]);
    expect(Uint8Array.from(atob(at1.pages[0].data), (ch) => ch.charCodeAt(0))).toEqual(old.subarray(PS, 2 * PS));
    for (const pos of [`${hex(p1.txid)}/${hex(p1.checksum ^ 1n)}`, `${hex(9n)}/${hex(head.checksum)}`, `${hex(0n)}/${hex(0n)}`]) {
      const res = await raw('GET', `/db/page?db=${db}&pos=${pos}&pgno=1`);
      expect(res.status).toBe(409);
      expect(await json(res)).toEqual({ code: 'EPOSMISMATCH', error: 'position mismatch', pos: posJSON(head) });
    }

    const sync = async (pos?: Pos) => json(await raw('GET', `/db/sync?db=${db}${pos ? `&pos=${hex(pos.txid)}/${hex(pos.checksum)}` : ''}`));
    expect(await sync(p1)).toEqual({ pos: posJSON(head), pgnos: [2, 5, 7], all: false });
    expect(await sync(head)).toEqual({ pos: posJSON(head), pgnos: [], all: false });
    expect(await sync()).toEqual({ pos: posJSON(head), pgnos: [], all: true });
    expect(await sync({ txid: p1.txid, checksum: p1.checksum ^ 2n })).toEqual({ pos: posJSON(head), pgnos: [], all: true });
    expect(await sync({ txid: 99n, checksum: 1n })).toEqual({ pos: posJSON(head), pgnos: [], all: true });

    // POST /sync, LiteVFS's periodic form: several databases at once; unknown ones are left out.
    const positions = { [db]: posJSON(p1), 'never-written.db': posJSON({ txid: 1n, checksum: 1n }) };
    const many = await fetchWorker(`${BASE}/sync`, {
      method: 'POST',
      headers: { authorization: 'dev-token' },
      body: JSON.stringify({ positions }),
    });
    expect(await json(many)).toEqual({ changes: { [db]: { pos: posJSON(head), pgnos: [2, 5, 7], all: false } } });
    const none = await raw('POST', '/sync', { body: JSON.stringify({ positions: { [db]: posJSON({ txid: 0n, checksum: 0n }) } }) });
    expect(await json(none)).toEqual({ changes: { [db]: { pos: posJSON(head), pgnos: [], all: true } } });
    for (const bad of [
      '{',
      '[]',
      '{"positions": {"vfs.db": {"txid": 1}}}',
      '{"positions": {"Bad Name": {"txid": "1", "postApplyChecksum": "1"}}}',
    ]) {
      const res = await raw('POST', '/sync', { body: bad });
      expect([bad, res.status]).toEqual([bad, 400]);
      expect(await json(res)).toMatchObject({ code: 'EINVAL' });
    }
  });
});

describe('auth and clusters', () => {
  const tokens = JSON.stringify([...TOKEN_SPECS, { token: 'prod-node-token', scopes: ['read', 'write'], databases: ['prod--*'] }]);
  const cfgEnv = { ...env, LTX_EDGE_TOKENS: tokens };
  const call = (path: string, authorization: string | undefined, init: RequestInit = {}) =>
    app.request(`${BASE}/litefs${path}`, { ...init, headers: authorization === undefined ? {} : { authorization } }, cfgEnv);

  it('the raw token, FlyV1 <token> and Bearer <token> are accepted; other forms are 401; scopes and databases are 403', async () => {
    for (const auth of [TOKENS.read, `FlyV1 ${TOKENS.read}`, `Bearer ${TOKENS.read}`, `  flyv1   ${TOKENS.read} `]) {
      const res = await call('/pos', auth);
      expect([auth, res.status]).toEqual([auth, 200]);
      await res.body?.cancel();
    }
    for (const auth of [undefined, '', `Basic ${TOKENS.read}`, 'FlyV1', 'nope', `${TOKENS.read} extra`, `FlyV1 ${TOKENS.read}x`]) {
      const res = await call('/pos', auth);
      expect([auth, res.status]).toEqual([auth, 401]);
      expect(await json(res)).toMatchObject({ code: 'EUNAUTHORIZED' });
    }
    const readOnly = await call('/db/tx?db=auth.db', TOKENS.read, { method: 'POST', body: new Uint8Array(10) });
    expect(readOnly.status).toBe(403);
    expect(await json(readOnly)).toMatchObject({ code: 'EFORBIDDEN' });
    const otherDb = await call('/db/snapshot?db=auth.db', TOKENS.otherDb);
    expect(otherDb.status).toBe(403);
    const wrongCluster = await call('/db/snapshot?db=auth.db&cluster=dev', 'prod-node-token');
    expect(wrongCluster.status).toBe(403);
    await Promise.all([otherDb.body?.cancel(), wrongCluster.body?.cancel()]);
  });

  it('?cluster= maps to the name prefix <cluster>--<db>; /pos lists one cluster, names stripped', async () => {
    const prod = node({ cluster: 'prod', token: 'FlyV1 dev-token' });
    prod.write(
      'app.db',
      Array.from({ length: 3 }, (_, i) => ({ pgno: i + 1, data: pageOf(5000 + i) })),
    );
    await prod.sync();
    const info = await fetchWorker(`${BASE}/v1/databases/prod--app.db`, { headers: { authorization: 'Bearer dev-token' } });
    expect(info.status).toBe(200);
    await info.body?.cancel();
    const inProd = await json(await raw('GET', '/pos?cluster=prod'));
    expect(inProd).toEqual({ 'app.db': posJSON(prod.dbs.get('app.db')!.pos) });
    expect(await json(await raw('GET', '/pos'))).not.toHaveProperty('prod--app.db');
    expect(await json(await raw('GET', '/pos?cluster=dev'))).toEqual({});
    // A token confined to the cluster sees it, and nothing else.
    const scoped = await call('/pos?cluster=prod', 'prod-node-token');
    expect(await json(scoped)).toEqual(inProd);
    const outside = await call('/pos', 'prod-node-token');
    expect(await json(outside)).toEqual({});
    await expectSameDatabase(prod, 'app.db', 'prod--app.db');
  });
});
