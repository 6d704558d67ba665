// Every /v1/databases route of DESIGN §4 through expectAuthMatrix, with the real app and the fixture tokens; list filtering by token.

import { env, exports } from 'cloudflare:workers';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { app } from '../../src/app.ts';
import { TOKEN_SPECS, bearer, expectAuthMatrix, OTHER_DATABASE, TOKENS, withTokens } from '../helpers/auth-matrix.ts';
import type { Fetch, MatrixResult, MatrixRoute } from '../helpers/auth-matrix.ts';
import { encodePageBatch } from '../../src/replication/page-batch.ts';
import { registrySettled } from '../helpers/cron-sim.ts';

const BASE = 'https://ltx-edge.test';
const DEV = { authorization: 'Bearer dev-token' };
const { manifest, files } = inject('ltxVectors');

const tokenEnv = withTokens(env);
const fetchApp: Fetch = (url, init) => app.request(url, init, tokenEnv);

function bytesOf(rel: string): Uint8Array {
  return Uint8Array.from(atob(files[rel]), (c) => c.charCodeAt(0));
}

const CHAIN = manifest.files
  .filter((f) => f.set === 'block-ps4096')
  .map((f) => f.path)
  .sort()
  .slice(0, 3);
const FILE1 = CHAIN[0].split('/').pop()!;
const FILE2 = CHAIN[1].split('/').pop()!;

/** Pushes CHAIN to `name` with the dev token (exports.default.fetch), then waits until the registry lists its head. */
async function seed(name: string): Promise<void> {
  for (const p of CHAIN) {
    const res = await exports.default.fetch(`${BASE}/v1/databases/${name}/ltx`, { method: 'POST', headers: DEV, body: bytesOf(p) });
    expect([200, 201]).toContain(res.status);
    await res.body?.cancel();
  }
  await registrySettled(name, BigInt(CHAIN.length));
}

const onePage = () => encodePageBatch([{ pgno: 2, data: new Uint8Array(4096).fill(7) }]);

/** The routes of DESIGN §4 that exist now, on database `name` (DELETE on `doomed`), and the statuses a passing token may get. */
function routes(name: string, doomed: string): (MatrixRoute & { passes: number[] })[] {
  const db = `/v1/databases/${name}`;
  return [
    { method: 'GET', path: '/v1/databases', scope: 'read', perDatabase: false, passes: [200] },
    { method: 'GET', path: db, scope: 'read', passes: [200] },
    { method: 'GET', path: `${db}/ltx`, scope: 'read', passes: [200] },
    { method: 'GET', path: `${db}/ltx?level=0&after=0000000000000001`, scope: 'read', passes: [200] },
    { method: 'GET', path: `${db}/ltx/0000/${FILE1}`, scope: 'read', passes: [200] },
    { method: 'GET', path: `${db}/ltx/0000/${FILE2}`, scope: 'read', headers: { range: 'bytes=0-99' }, passes: [206] },
    { method: 'GET', path: `${db}/watch`, scope: 'read', passes: [200] },
    // A re-push of committed TXID 1: 200 for every token that gets through.
    { method: 'POST', path: `${db}/ltx`, scope: 'write', body: () => bytesOf(CHAIN[0]), passes: [200] },
    // The first token through commits TXID 4; the next one's base is stale.
    { method: 'POST', path: `${db}/tx?base=0000000000000003`, scope: 'write', body: onePage, passes: [201, 409] },
    { method: 'POST', path: `${db}/adopt`, scope: 'admin', passes: [200] },
    { method: 'DELETE', path: `/v1/databases/${doomed}`, scope: 'admin', passes: [200] },
  ];
}

describe('auth matrix over the /v1/databases routes', () => {
  let results: MatrixResult[] = [];
  const table = routes('auth-db', 'auth-doomed');

  beforeAll(async () => {
    await seed('auth-db');
    await seed('auth-doomed');
  });

  it('none/bad → 401, too weak or other database → 403, enough → through', async () => {
    results = await expectAuthMatrix(fetchApp, table);
    expect(results.length).toBeGreaterThan(0);
  });

  it('requests that got through reached the route and succeeded', () => {
    for (const route of table) {
      const label = `${route.method} ${route.path}`;
      const passed = results.filter((r) => r.route === label && r.expected === 'pass');
      expect(passed.length, label).toBeGreaterThan(0);
      for (const r of passed) expect(route.passes, `${label} [${r.case}] → ${r.status}`).toContain(r.status);
    }
  });

  it('DELETE and adopt let only admin through', () => {
    for (const path of ['/v1/databases/auth-doomed', '/v1/databases/auth-db/adopt']) {
      const passed = results.filter((r) => r.route.endsWith(` ${path}`) && r.status !== 401 && r.status !== 403);
      expect(
        passed.map((r) => r.case),
        path,
      ).toEqual(['admin token']);
    }
  });

  it('rejected requests changed nothing: auth-db is at TXID 4 (one /tx), auth-doomed is gone only through admin', async () => {
    const info = await exports.default.fetch(`${BASE}/v1/databases/auth-db`, { headers: DEV });
    expect(((await info.json()) as { pos: { txid: string } }).pos.txid).toBe('0000000000000004');
    const gone = await exports.default.fetch(`${BASE}/v1/databases/auth-doomed`, { headers: DEV });
    expect(gone.status).toBe(404);
    await gone.body?.cancel();
  });
});

describe('a token limited to one database', () => {
  // Registry order puts these around OTHER_DATABASE ("auth-other-db"): a < o < z.
  const others = ['auth-list-a', 'auth-list-z', 'auth-app-1', 'auth-app-2'];

  beforeAll(async () => {
    for (const name of [OTHER_DATABASE, ...others]) await seed(name);
  });

  it('passes every route on its own database', async () => {
    for (const route of routes(OTHER_DATABASE, OTHER_DATABASE)) {
      const res = await fetchApp(BASE + route.path, {
        method: route.method,
        headers: { ...bearer(TOKENS.otherDb), ...route.headers },
        body: typeof route.body === 'function' ? route.body() : route.body,
      });
      expect(route.passes, `${route.method} ${route.path} → ${res.status}`).toContain(res.status);
      await res.body?.cancel();
    }
  });

  it('sees only its database in GET /v1/databases', async () => {
    await seed(OTHER_DATABASE); // the DELETE above removed it
    const res = await fetchApp(`${BASE}/v1/databases`, { headers: bearer(TOKENS.otherDb) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { databases: { name: string }[]; next?: string };
    expect(body.databases.map((d) => d.name)).toEqual([OTHER_DATABASE]);

    const all = (await (await fetchApp(`${BASE}/v1/databases`, { headers: bearer(TOKENS.read) })).json()) as {
      databases: { name: string }[];
    };
    expect(all.databases.map((d) => d.name)).toEqual(expect.arrayContaining([OTHER_DATABASE, ...others]));
  });

  it('never learns another database name from the pagination cursor', async () => {
    // With limit=1 the first registry entry ("auth-app-1") is not this token's: the cursor must not name it.
    let after = '';
    const seen: string[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await fetchApp(`${BASE}/v1/databases?limit=1&after=${after}`, { headers: bearer(TOKENS.otherDb) });
      const body = (await res.json()) as { databases: { name: string }[]; next?: string };
      seen.push(...body.databases.map((d) => d.name));
      if (body.next !== undefined) expect(body.next).toBe(OTHER_DATABASE);
      if (!body.next) break;
      after = body.next;
    }
    expect(seen).toEqual([OTHER_DATABASE]);
  });

  it('glob patterns filter the list too', async () => {
    const globEnv = {
      ...env,
      LTX_EDGE_TOKENS: JSON.stringify([...TOKEN_SPECS, { token: 'test-glob-token', scopes: ['read'], databases: ['auth-app-*'] }]),
    };
    const res = await app.request(`${BASE}/v1/databases`, { headers: bearer('test-glob-token') }, globEnv);
    const body = (await res.json()) as { databases: { name: string }[] };
    expect(body.databases.map((d) => d.name)).toEqual(['auth-app-1', 'auth-app-2']);
    const page = (await (await app.request(`${BASE}/v1/databases?limit=1`, { headers: bearer('test-glob-token') }, globEnv)).json()) as {
      databases: { name: string }[];
      next?: string;
    };
    expect(page).toMatchObject({ databases: [{ name: 'auth-app-1' }], next: 'auth-app-1' });
  });
});
