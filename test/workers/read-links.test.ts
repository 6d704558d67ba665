// Read links: minted with a read token at one resolved TXID, served without a token (ranges, ETag, 304) with CORS for any origin; tampered, expired, moved or deleted → 403/404, never bytes. And CORS on /v1 from LTX_EDGE_CORS_ORIGINS.

import { env } from 'cloudflare:workers';
import { describe, expect, inject, it } from 'vitest';
import { app } from '../../src/app.ts';
import { MAX_LINK_SECONDS, linkPath } from '../../src/read/read-links.ts';
import { pushWorkload } from '../helpers/workload-images.ts';

const BASE = 'https://ltx-edge.test';
const AUTH = { authorization: 'Bearer dev-token' };
const hex = (n: number): string => n.toString(16).padStart(16, '0');
const w = inject('fileWorkloads')[0];
const NAME = 'links';

const call = (path: string, init: RequestInit = {}, e: object = env): Promise<Response> =>
  Promise.resolve(
    app.request(
      path.startsWith('http') ? path : `${BASE}${path}`,
      { ...init, headers: { ...AUTH, ...(init.headers as Record<string, string>) } },
      e,
    ),
  );
/** A request with no Authorization header at all, as a browser page on another origin sends it. */
const anonymous = (url: string, init: RequestInit = {}, e: object = env): Promise<Response> => Promise.resolve(app.request(url, init, e));

interface Link {
  url: string;
  txid: string;
  expiresAt: string;
}

async function mint(body: unknown, name = NAME, e: object = env): Promise<Response> {
  return call(
    `/v1/databases/${name}/links`,
    { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
    e,
  );
}

async function minted(body: unknown, name = NAME): Promise<Link> {
  const res = await mint(body, name);
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as Link;
}

async function errorCode(res: Response): Promise<string> {
  return ((await res.json()) as { error: { code: string } }).error.code;
}

describe('read links', () => {
  let images: Uint8Array[] = [];

  it('mint at a TXID: 201 {url, txid, expiresAt in an hour}; the url serves that file without a token', async () => {
    images = await pushWorkload(call, NAME, w);
    const before = Date.now();
    const link = await minted({ txid: hex(2) });
    expect(link.txid).toBe(hex(2));
    expect(link.url).toMatch(new RegExp(`^${BASE}/v1/links/${NAME}/`));
    const expires = Date.parse(link.expiresAt);
    expect(expires).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 3_600_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 3_600_000);
    const res = await anonymous(link.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('ltx-txid')).toBe(hex(2));
    expect(res.headers.get('content-length')).toBe(String(images[1].length));
    expect(res.headers.get('cache-control')).toMatch(/^public, max-age=(\d+)$/);
    expect(Number(/max-age=(\d+)/.exec(res.headers.get('cache-control')!)![1])).toBeLessThanOrEqual(3600);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(images[1]);
  });

  it('serves ranges, HEAD, 304 and 416 like the snapshot route, with the same ETag', async () => {
    const link = await minted({ txid: hex(3) });
    const image = images[2];
    const viaToken = await call(`/v1/databases/${NAME}/snapshot?format=sqlite&txid=${hex(3)}`, { method: 'HEAD' });
    const etag = viaToken.headers.get('etag')!;
    const range = await anonymous(link.url, { headers: { range: 'bytes=100-611' } });
    expect(range.status).toBe(206);
    expect(range.headers.get('content-range')).toBe(`bytes 100-611/${image.length}`);
    expect(range.headers.get('etag')).toBe(etag);
    expect(new Uint8Array(await range.arrayBuffer())).toEqual(image.subarray(100, 612));
    const head = await anonymous(link.url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(image.length));
    const nm = await anonymous(link.url, { headers: { 'if-none-match': etag } });
    expect(nm.status).toBe(304);
    const past = await anonymous(link.url, { headers: { range: `bytes=${image.length}-` } });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe(`bytes */${image.length}`);
    expect(past.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('answers a CORS preflight from any origin, allowing Range, and exposes the headers a range reader needs', async () => {
    const link = await minted({});
    const pre = await anonymous(link.url, {
      method: 'OPTIONS',
      headers: { origin: 'https://elsewhere.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'range' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    expect(pre.headers.get('access-control-allow-headers')!.toLowerCase()).toContain('range');
    expect(pre.headers.get('access-control-allow-methods')).toContain('GET');
    const res = await anonymous(link.url, { headers: { origin: 'https://elsewhere.example', range: 'bytes=0-15' } });
    const exposed = res.headers.get('access-control-expose-headers')!.toLowerCase().split(/,\s*/);
    for (const h of ['content-range', 'content-length', 'accept-ranges', 'etag', 'ltx-txid']) expect(exposed).toContain(h);
    expect(new TextDecoder().decode(new Uint8Array(await res.arrayBuffer()))).toBe('SQLite format 3\0');
  });

  it('a head link is pinned when minted: later commits do not change what it serves', async () => {
    const link = await minted({});
    expect(link.txid).toBe(hex(images.length));
    const more = await pushWorkload(call, `${NAME}-other`, w); // another database moves; this one is pinned anyway
    expect(more.length).toBe(images.length);
    const res = await anonymous(link.url);
    expect(res.headers.get('ltx-txid')).toBe(hex(images.length));
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(images.at(-1));
  });

  it('at= resolves to a TXID when minted', async () => {
    const link = await minted({ at: 'now' });
    expect(link.txid).toBe(hex(images.length));
  });

  it('a changed link is 403 LINK_INVALID with CORS and no bytes: signature, TXID, expiry, incarnation or database', async () => {
    const link = await minted({ txid: hex(1) });
    const token = link.url.slice(link.url.lastIndexOf('/') + 1);
    const [txid, expires, incarnation, mac] = token.split('.');
    const flip = (s: string): string => (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
    const base = `${BASE}/v1/links/${NAME}/`;
    const variants = [
      base + [txid, expires, incarnation, flip(mac)].join('.'),
      base + [hex(2), expires, incarnation, mac].join('.'),
      base + [txid, String(Number(expires) + 86_400), incarnation, mac].join('.'),
      base + [txid, expires, flip(incarnation), mac].join('.'),
      `${BASE}/v1/links/${NAME}-other/${token}`, // moved to another database that exists
      base + token.slice(0, -1),
      base + 'garbage',
    ];
    for (const url of variants) {
      const res = await anonymous(url, { headers: { range: 'bytes=0-99' } });
      expect(res.status, url).toBe(403);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(res.headers.get('content-type')).toContain('application/json');
      expect(await errorCode(res)).toBe('LINK_INVALID');
    }
  });

  it('an expired link is 403 LINK_EXPIRED', async () => {
    const link = await minted({ txid: hex(1) });
    const incarnation = link.url.slice(link.url.lastIndexOf('/') + 1).split('.')[2];
    const path = await linkPath(env.LTX_EDGE_LINK_SECRET!, { db: NAME, incarnation, txid: 1n, expires: Math.floor(Date.now() / 1000) - 1 });
    const res = await anonymous(`${BASE}${path}`);
    expect(res.status).toBe(403);
    expect(await errorCode(res)).toBe('LINK_EXPIRED');
  });

  it('minting refuses bad input with 400, past the head with 409, and without the read scope with 401/403', async () => {
    for (const body of [
      { txid: 'xyz' },
      { txid: hex(1), at: 'now' },
      { expiresIn: 0 },
      { expiresIn: MAX_LINK_SECONDS + 1 },
      { expiresIn: 1.5 },
      { expiresIn: '60' },
      { other: 1 },
      [],
    ]) {
      const res = await mint(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
    }
    const bad = await call(`/v1/databases/${NAME}/links`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"txid":',
    });
    expect(bad.status).toBe(400);
    const past = await mint({ txid: hex(images.length + 1) });
    expect(past.status).toBe(409);
    expect(await errorCode(past)).toBe('NOT_YET_AVAILABLE');
    const missing = await mint({}, 'no-such-database');
    expect(missing.status).toBe(404);
    const none = await anonymous(`${BASE}/v1/databases/${NAME}/links`, { method: 'POST', body: '{}' });
    expect(none.status).toBe(401);
    const tokens = JSON.stringify([
      { token: 'other-db', scopes: ['read'], databases: ['elsewhere'] },
      { token: 'writer', scopes: ['write'], databases: '*' },
    ]);
    const scoped = { ...env, LTX_EDGE_TOKENS: tokens };
    for (const token of ['other-db', 'writer']) {
      const res = await anonymous(
        `${BASE}/v1/databases/${NAME}/links`,
        { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: '{}' },
        scoped,
      );
      expect(res.status, token).toBe(403);
    }
    const empty = await call(`/v1/databases/${NAME}/links`, { method: 'POST' });
    expect(empty.status).toBe(201);
  });

  it('without LTX_EDGE_LINK_SECRET, minting and serving answer 503 NOT_CONFIGURED saying what to set', async () => {
    const link = await minted({});
    const unset = { ...env, LTX_EDGE_LINK_SECRET: undefined };
    const res = await mint({}, NAME, unset);
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('NOT_CONFIGURED');
    expect(body.error.message).toContain('LTX_EDGE_LINK_SECRET');
    const served = await anonymous(link.url, {}, unset);
    expect(served.status).toBe(503);
    const short = await mint({}, NAME, { ...env, LTX_EDGE_LINK_SECRET: 'too-short' });
    expect(short.status).toBe(503);
    expect(((await short.json()) as { error: { details: { configCode: string } } }).error.details.configCode).toBe('INVALID_LINK_SECRET');
  });

  it('deleting the database ends its links; a database created again under the name does not inherit them', async () => {
    const name = `${NAME}-gone`;
    const first = await pushWorkload(call, name, w);
    const link = await minted({ txid: hex(1) }, name);
    expect((await anonymous(link.url)).status).toBe(200);
    const del = await call(`/v1/databases/${name}`, { method: 'DELETE' });
    expect(del.status).toBe(200);
    const gone = await anonymous(link.url, { headers: { range: 'bytes=0-99' } });
    expect(gone.status).toBe(404);
    const again = await pushWorkload(call, name, w);
    expect(again[0]).toEqual(first[0]);
    for (const init of [{}, { headers: { range: 'bytes=0-99' } }]) {
      const res = await anonymous(link.url, init);
      expect(res.status).toBe(404);
      expect(await errorCode(res)).toBe('NOT_FOUND');
    }
    const fresh = await minted({ txid: hex(1) }, name);
    expect((await anonymous(fresh.url)).status).toBe(200);
  });
});

describe('CORS on the token-authenticated /v1 routes', () => {
  const origin = 'https://console.example';

  it('none by default: no Access-Control-Allow-Origin', async () => {
    const res = await call('/v1/databases', { headers: { origin } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('the origins of LTX_EDGE_CORS_ORIGINS only, preflight allowing Authorization and Range', async () => {
    const e = { ...env, LTX_EDGE_CORS_ORIGINS: `${origin}, http://localhost:5173` };
    const res = await call('/v1/databases', { headers: { origin } }, e);
    expect(res.headers.get('access-control-allow-origin')).toBe(origin);
    expect(res.headers.get('access-control-expose-headers')!.toLowerCase()).toContain('ltx-txid');
    const other = await call('/v1/databases', { headers: { origin: 'https://evil.example' } }, e);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const pre = await anonymous(
      `${BASE}/v1/databases/${NAME}/query`,
      {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
      },
      e,
    );
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe(origin);
    const allowed = pre.headers.get('access-control-allow-headers')!.toLowerCase();
    for (const h of ['authorization', 'content-type', 'range']) expect(allowed).toContain(h);
    const err = await anonymous(`${BASE}/v1/databases`, { headers: { origin } }, e);
    expect(err.status).toBe(401);
    expect(err.headers.get('access-control-allow-origin')).toBe(origin);
  });

  it('an origin that is not one is a configuration error naming the variable', async () => {
    const res = await call('/v1/databases', {}, { ...env, LTX_EDGE_CORS_ORIGINS: 'https://a.example/path' });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { details: { configCode: string } } }).error.details.configCode).toBe('INVALID_CORS_ORIGINS');
  });
});
