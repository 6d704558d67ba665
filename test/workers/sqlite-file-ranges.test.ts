// GET|HEAD …/snapshot?format=sqlite as a file any HTTP-range reader can use: ranges, HEAD, ETag, 304, If-Range, 412, 416 — byte-exact at several TXIDs of real workloads with 512, 1024 (WAL), 4096 and 65536-byte pages.

import { env } from 'cloudflare:workers';
import { describe, expect, inject, it } from 'vitest';
import { app } from '../../src/app.ts';
import { HEADER_FLAG_NO_CHECKSUM, encodeLTX, lockPgno, makeHeader } from '../../src/ltx/index.ts';
import { IN_MEMORY_RANGE_BYTES } from '../../src/read/sqlite-file-answer.ts';
import { prng } from '../helpers/prng.ts';
import { pushWorkload } from '../helpers/workload-images.ts';

const BASE = 'https://ltx-edge.test';
const AUTH = { authorization: 'Bearer dev-token' };
const SEED = 0x5eed15;
const hex = (n: number): string => n.toString(16).padStart(16, '0');
const workloads = [...inject('fileWorkloads'), ...inject('queryWorkloads')];

const call = (path: string, init: RequestInit = {}, e: object = env): Promise<Response> =>
  Promise.resolve(app.request(`${BASE}${path}`, { ...init, headers: { ...AUTH, ...(init.headers as Record<string, string>) } }, e));

async function bytes(res: Response): Promise<Uint8Array> {
  return new Uint8Array(await res.arrayBuffer());
}

describe.each(workloads.map((w) => [w.name, w] as const))('the database file of %s', (_, w) => {
  const name = `file-${w.name}`;
  const ps = w.pageSize;
  let images: Uint8Array[] = [];
  const file = (txid: number): string => `/v1/databases/${name}/snapshot?format=sqlite&txid=${hex(txid)}`;

  it('is pushed, and its whole file at every TXID is the image the codec rebuilds', async () => {
    images = await pushWorkload(call, name, w);
    expect(images.length).toBeGreaterThanOrEqual(3);
    for (let t = 1; t <= images.length; t++) {
      const res = await call(file(t));
      expect(res.status).toBe(200);
      expect(res.headers.get('accept-ranges')).toBe('bytes');
      expect(res.headers.get('content-length')).toBe(String(images[t - 1].length));
      expect(res.headers.get('cache-control')).toBe('private, max-age=31536000, immutable');
      expect(res.headers.get('etag')).toMatch(new RegExp(`^"${hex(t)}-[0-9a-f]{16}-[0-9a-f]+"$`));
      expect(await bytes(res)).toEqual(images[t - 1]);
    }
  });

  it('answers one range with exactly its bytes, at several TXIDs (seeded ranges, seed printed)', async () => {
    console.log(`range seed ${SEED.toString(16)} (${w.name})`);
    const r = prng(SEED + ps);
    const txids = [1, Math.ceil(images.length / 2), images.length];
    for (const t of txids) {
      const image = images[t - 1];
      const size = image.length;
      const fixed: [string, number, number][] = [
        ['0-0', 0, 0],
        ['0-99', 0, 99],
        [`${ps - 1}-${ps}`, ps - 1, ps], // across a page boundary
        [`${ps}-${3 * ps - 1}`, ps, 3 * ps - 1], // whole pages 2 and 3
        [`${size - 1}-`, size - 1, size - 1],
        ['-1', size - 1, size - 1],
        [`-${ps + 3}`, size - ps - 3, size - 1],
        [`-${size + 10}`, 0, size - 1], // a suffix longer than the file is the file
        [`100-${size + 1000}`, 100, size - 1], // clamped at the end
        ['0-', 0, size - 1],
      ];
      for (let i = 0; i < 12; i++) {
        const a = r.int(size);
        const b = Math.min(size - 1, a + r.int(4 * ps));
        fixed.push([`${a}-${b}`, a, b]);
      }
      for (const [spec, first, last] of fixed) {
        const res = await call(file(t), { headers: { range: `bytes=${spec}` } });
        expect(res.status, spec).toBe(206);
        expect(res.headers.get('content-range'), spec).toBe(`bytes ${first}-${last}/${size}`);
        expect(res.headers.get('content-length'), spec).toBe(String(last - first + 1));
        expect(await bytes(res), spec).toEqual(image.subarray(first, last + 1));
      }
    }
  });

  it('HEAD sends the headers of the whole file and no body; Range does not change it', async () => {
    const t = images.length;
    const get = await call(file(t));
    await get.body?.cancel();
    for (const headers of [{}, { range: 'bytes=0-9' }] as Record<string, string>[]) {
      const res = await call(file(t), { method: 'HEAD', headers });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-length')).toBe(String(images[t - 1].length));
      expect(res.headers.get('accept-ranges')).toBe('bytes');
      expect(res.headers.get('etag')).toBe(get.headers.get('etag'));
      expect((await bytes(res)).length).toBe(0);
    }
  });

  it('past the end is 416 with Content-Range: bytes */size; malformed bytes ranges too; other units are ignored', async () => {
    const size = images[0].length;
    for (const range of [
      `bytes=${size}-`,
      `bytes=${size + 5}-${size + 10}`,
      'bytes=-0',
      'bytes=abc',
      'bytes=5-3',
      'bytes=',
      `bytes=${size}-,${size + 1}-`,
    ]) {
      const res = await call(file(1), { headers: { range } });
      expect(res.status, range).toBe(416);
      expect(res.headers.get('content-range'), range).toBe(`bytes */${size}`);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('RANGE_NOT_SATISFIABLE');
    }
    const other = await call(file(1), { headers: { range: 'items=0-5' } });
    expect(other.status).toBe(200);
    expect(await bytes(other)).toEqual(images[0]);
  });

  it('several ranges get the whole file (200), as documented', async () => {
    const res = await call(file(1), { headers: { range: 'bytes=0-9, 20-29' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-range')).toBeNull();
    expect(await bytes(res)).toEqual(images[0]);
  });

  it('If-None-Match → 304 (weak or strong, in a list, *); If-Range → the range only while the ETag holds; If-Match → 412', async () => {
    const t = 2;
    const head = await call(file(t), { method: 'HEAD' });
    const etag = head.headers.get('etag')!;
    for (const inm of [etag, `W/${etag}`, `"x", ${etag}`, '*']) {
      const res = await call(file(t), { headers: { 'if-none-match': inm } });
      expect(res.status, inm).toBe(304);
      expect(res.headers.get('etag')).toBe(etag);
      expect((await bytes(res)).length).toBe(0);
    }
    const other = await call(file(t), { headers: { 'if-none-match': '"not-it"' } });
    expect(other.status).toBe(200);
    await other.body?.cancel();
    // Another TXID is another file: its ETag does not match this one.
    const older = await call(file(1), { headers: { 'if-none-match': etag } });
    expect(older.status).toBe(200);
    await older.body?.cancel();

    const held = await call(file(t), { headers: { range: 'bytes=0-15', 'if-range': etag } });
    expect(held.status).toBe(206);
    expect(await bytes(held)).toEqual(images[t - 1].subarray(0, 16));
    for (const ifRange of ['"stale"', `W/${etag}`, 'Wed, 21 Oct 2015 07:28:00 GMT']) {
      const res = await call(file(t), { headers: { range: 'bytes=0-15', 'if-range': ifRange } });
      expect(res.status, ifRange).toBe(200);
      expect(await bytes(res)).toEqual(images[t - 1]);
    }
    const pre = await call(file(t), { headers: { 'if-match': '"other"' } });
    expect(pre.status).toBe(412);
    expect(((await pre.json()) as { error: { code: string } }).error.code).toBe('PRECONDITION_FAILED');
    const ok = await call(file(t), { headers: { 'if-match': etag, range: 'bytes=1-2' } });
    expect(ok.status).toBe(206);
    expect(await bytes(ok)).toEqual(images[t - 1].subarray(1, 3));
  });

  it('at the head: LTX-TXID names the point to pin, Cache-Control is no-cache, and the ETag is the pinned one', async () => {
    const head = images.length;
    const res = await call(`/v1/databases/${name}/snapshot?format=sqlite`, { headers: { range: 'bytes=0-99' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('ltx-txid')).toBe(hex(head));
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(await bytes(res)).toEqual(images[head - 1].subarray(0, 100));
    const pinned = await call(file(head), { method: 'HEAD' });
    expect(pinned.headers.get('etag')).toBe(res.headers.get('etag'));
  });

  it('an explicit TXID range is served from the edge cache the second time, byte-identical, and 304 from there', async () => {
    const t = images.length;
    const spec = `${2 * ps}-${2 * ps + 999}`;
    const first = await call(file(t), { headers: { range: `bytes=${spec}` } });
    const body = await bytes(first);
    let second: Response | undefined;
    // The store runs in waitUntil: ask until the hit shows (bounded; no sleeping).
    for (let i = 0; i < 50 && second?.headers.get('x-ltx-edge-cache') !== 'hit'; i++) {
      second = await call(file(t), { headers: { range: `bytes=${spec}` } });
      if (second.headers.get('x-ltx-edge-cache') !== 'hit') await second.body?.cancel();
    }
    expect(second!.headers.get('x-ltx-edge-cache')).toBe('hit');
    expect(second!.status).toBe(206);
    expect(second!.headers.get('content-range')).toBe(first.headers.get('content-range'));
    expect(second!.headers.get('cache-control')).toBe('private, max-age=31536000, immutable');
    expect(await bytes(second!)).toEqual(body);
    const nm = await call(file(t), { headers: { range: `bytes=${spec}`, 'if-none-match': first.headers.get('etag')! } });
    expect(nm.status).toBe(304);
  });
});

describe('only the pages a range touches are read', () => {
  const w = inject('queryWorkloads')[1];
  const name = 'file-reads-counted';

  it('a range in one page reads each plan file’s index tail and that page’s frame, never a whole object', async () => {
    const images = await pushWorkload(call, name, w);
    const size = images.at(-1)!.length;
    const gets: { key: string; length: number | undefined }[] = [];
    const bucket = new Proxy(env.LTX_BUCKET, {
      get(target, prop) {
        const v = Reflect.get(target, prop, target);
        if (prop !== 'get') return typeof v === 'function' ? v.bind(target) : v;
        return (key: string, opts?: R2GetOptions) => {
          const range = opts?.range as { length?: number } | undefined;
          gets.push({ key, length: range?.length });
          return target.get(key, opts);
        };
      },
    });
    const counted = { ...env, LTX_BUCKET: bucket };
    const last = Math.floor(size / w.pageSize) - 1;
    const res = await call(
      `/v1/databases/${name}/snapshot?format=sqlite`,
      { headers: { range: `bytes=${last * w.pageSize}-${last * w.pageSize + 9}` } },
      counted,
    );
    expect(res.status).toBe(206);
    expect(await bytes(res)).toEqual(images.at(-1)!.subarray(last * w.pageSize, last * w.pageSize + 10));
    expect(gets.length).toBeGreaterThan(0);
    expect(gets.every((g) => g.length !== undefined)).toBe(true);
    // Per object: the index probe (its last 32 KiB at most), and only the frame of the page asked.
    const perKey = new Map<string, number>();
    for (const g of gets) perKey.set(g.key, (perKey.get(g.key) ?? 0) + g.length!);
    const frames = [...perKey.values()].map((n) => n - Math.min(n, 32 * 1024));
    expect(frames.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(w.pageSize + 64);
    expect(gets.length).toBeLessThanOrEqual(perKey.size + 1);
  });
});

describe('a range longer than IN_MEMORY_RANGE_BYTES', () => {
  const name = 'file-streamed';
  const ps = 4096;
  const pages = Math.ceil((IN_MEMORY_RANGE_BYTES + 4 * 1024 * 1024) / ps);

  it('streams exactly its bytes with Content-Length, over many page steps', async () => {
    const image = new Uint8Array(pages * ps);
    const r = prng(SEED);
    // Every page distinct and compressible: its number, then a seeded byte pattern.
    for (let p = 1; p <= pages; p++) {
      const view = new DataView(image.buffer, (p - 1) * ps, ps);
      view.setUint32(0, p);
      view.setUint32(ps - 4, r.int(0x7fffffff));
      image.fill(p % 251, (p - 1) * ps + 4, p * ps - 4);
    }
    const header = makeHeader({
      flags: HEADER_FLAG_NO_CHECKSUM,
      pageSize: ps,
      commit: pages,
      minTXID: 1n,
      maxTXID: 1n,
      timestamp: Date.UTC(2026, 0, 1),
    });
    const lock = lockPgno(ps);
    const frames = Array.from({ length: pages }, (_, i) => i + 1)
      .filter((p) => p !== lock)
      .map((p) => ({ pgno: p, data: image.subarray((p - 1) * ps, p * ps) }));
    const pushed = await call(`/v1/databases/${name}/ltx`, { method: 'POST', body: encodeLTX(header, frames) });
    expect(pushed.status, await pushed.clone().text()).toBe(201);
    const first = 1234;
    const last = image.length - 4321;
    const res = await call(`/v1/databases/${name}/snapshot?format=sqlite&txid=${hex(1)}`, { headers: { range: `bytes=${first}-${last}` } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-length')).toBe(String(last - first + 1));
    expect(last - first + 1).toBeGreaterThan(IN_MEMORY_RANGE_BYTES);
    const got = await bytes(res);
    expect(got.length).toBe(last - first + 1);
    expect(Buffer.from(got).equals(Buffer.from(image.subarray(first, last + 1)))).toBe(true);
  });
});
