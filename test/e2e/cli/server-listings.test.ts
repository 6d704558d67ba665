// `ltx-edge databases`, `ltx-edge info <db>` and `ltx-edge ltx ls <db>` against a real local server: what they list, as text and as --json.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAppDatabase, runTransaction } from '../../helpers/agent-workload.ts';
import { DEV_TOKEN, type DevServer, devFetch, startDevServer } from '../../helpers/dev-server.ts';
import { prng } from '../../helpers/prng.ts';
import { runCLIAsync, runCLIAsyncJSON } from '../../helpers/run-cli.ts';

let server: DevServer;
let dir: string;
const env = { LTX_EDGE_TOKEN: DEV_TOKEN, LTX_EDGE_URL: undefined };

interface FileJSON {
  level: number;
  minTXID: string;
  maxTXID: string;
  size: number;
}

beforeAll(async () => {
  server = await startDevServer();
  dir = mkdtempSync(path.join(tmpdir(), 'ltx-listings-'));
  // Two databases: "list-a" with three pushes (a snapshot, then two), "list-b" with one.
  for (const [db, syncs] of [
    ['list-a', 3],
    ['list-b', 1],
  ] as const) {
    const file = path.join(dir, `${db}.db`);
    const r = prng(db.length);
    for (let s = 0; s < syncs; s++) {
      const app = openAppDatabase(file, 4096);
      for (let i = 0; i < 5; i++) runTransaction(app, r, s * 5 + i);
      app.close();
      const run = await runCLIAsync(['replicate', file, '--url', server.url, '--db', db, '--once'], { env });
      expect(run.status, run.stderr).toBe(0);
    }
  }
}, 120_000);

afterAll(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('ltx-edge databases', () => {
  it('--json: every database with its head, size and a maintenance lag', async () => {
    const r = await runCLIAsyncJSON<{ databases: { name: string; pos: { txid: string }; size: number; maintenanceLagSeconds: number }[] }>(
      ['databases', server.url, '--json'],
      { env },
    );
    expect(r.status, r.stderr).toBe(0);
    const byName = new Map(r.json.databases.map((d) => [d.name, d]));
    expect(byName.get('list-a')?.pos.txid).toBe('0000000000000003');
    expect(byName.get('list-b')?.pos.txid).toBe('0000000000000001');
    expect(byName.get('list-a')?.size).toBeGreaterThan(0);
    expect(byName.get('list-a')?.maintenanceLagSeconds).toBeGreaterThanOrEqual(0);
  });

  it('as text: a table with a line per database', async () => {
    const r = await runCLIAsync(['databases', '--url', server.url], { env });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^NAME\s+TXID\s+SIZE/);
    expect(r.stdout).toMatch(/^list-a\s+0000000000000003\s/m);
    expect(r.stdout).toMatch(/^list-b\s+0000000000000001\s/m);
  });
});

describe('ltx-edge info', () => {
  it('--json: levels, the oldest restorable TXID and when it was committed', async () => {
    const r = await runCLIAsyncJSON<{ levels: { level: number; files: number }[]; oldest: { txid: string; timestamp: string } }>(
      ['info', server.url, 'list-a', '--json'],
      { env },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.json.levels).toEqual([expect.objectContaining({ level: 0, files: 3 })]);
    expect(r.json.oldest.txid).toBe('0000000000000001');
    expect(Date.parse(r.json.oldest.timestamp)).toBeLessThanOrEqual(Date.now());
  });

  it('after a snapshot: level 9 in ltx ls and in info, and the oldest restorable point', async () => {
    expect((await devFetch(server, '/v1/databases/list-a/compact?level=9', { method: 'POST' })).status).toBe(200);
    const ls = await runCLIAsyncJSON<{ files: FileJSON[] }>(['ltx', 'ls', server.url, 'list-a', '--level', '9', '--json'], { env });
    expect(ls.status, ls.stderr).toBe(0);
    expect(ls.json.files).toEqual([expect.objectContaining({ level: 9, minTXID: '0000000000000001', maxTXID: '0000000000000003' })]);
    const text = await runCLIAsync(['info', server.url, 'list-a'], { env });
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^list-a: TXID 0000000000000003/);
    expect(text.stdout).toMatch(/oldest restorable: TXID 0000000000000001/);
    expect(text.stdout).toMatch(/^9 \(snapshots\)\s+1\s/m);
  });

  it('a database the server does not have: NOT_FOUND, exit 1', async () => {
    const r = await runCLIAsync(['info', server.url, 'no-such-db', '--json'], { env });
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });
});

describe('ltx-edge ltx ls', () => {
  it('--json: the files of every level, each level by TXID', async () => {
    const r = await runCLIAsyncJSON<{ files: FileJSON[] }>(['ltx', 'ls', server.url, 'list-a', '--json'], { env });
    expect(r.status, r.stderr).toBe(0);
    const l0 = r.json.files.filter((f) => f.level === 0).map((f) => [f.minTXID, f.maxTXID]);
    expect(l0).toEqual([
      ['0000000000000001', '0000000000000001'],
      ['0000000000000002', '0000000000000002'],
      ['0000000000000003', '0000000000000003'],
    ]);
    for (const f of r.json.files) expect(f.size).toBeGreaterThan(0);
  });

  it('as text, one level', async () => {
    const r = await runCLIAsync(['ltx', 'ls', server.url, 'list-b', '--level', '0'], { env });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^LEVEL\s+MIN_TXID\s+MAX_TXID/);
    expect(r.stdout).toMatch(/^0\s+0000000000000001\s+0000000000000001\s/m);
  });

  it.each([
    ['a level past 9', ['--level', '10']],
    ['a level that is not a number', ['--level', 'x']],
  ])('%s: a usage error (exit 2)', async (_what, extra) => {
    const r = await runCLIAsync(['ltx', 'ls', server.url, 'list-a', ...extra], { env });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--level must be 0 to 9/);
  });

  it('a database the server does not have: NOT_FOUND, exit 1', async () => {
    const r = await runCLIAsync(['ltx', 'ls', server.url, 'nope', '--json'], { env });
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });
});
