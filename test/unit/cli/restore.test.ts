// `ltx-edge restore` against a scripted HTTP server: restarts on broken downloads, atomic output, refusals, usage.

import { once } from 'node:events';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ApiClient, ApiClientError } from '../../../src/remote/http-client.ts';
import { OperationError } from '../../../src/remote/operation-error.ts';
import { type RestoreOptions, integrityCheck, restoreDatabase } from '../../../src/remote/restore.ts';
import { runCLI, runCLIAsync, runCLIAsyncJSON } from '../../helpers/run-cli.ts';

const TXID = '000000000000002a';

/** How the server answers the n-th snapshot request (from 1). */
type Script = (n: number, req: IncomingMessage, res: ServerResponse) => void;

let server: Server;
let url = '';
let dir = '';
let dbBytes: Uint8Array;
let script: Script;
let requests: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'ltx-restore-'));
  const src = path.join(dir, 'source.db');
  const db = new DatabaseSync(src);
  db.exec(`PRAGMA page_size = 4096; PRAGMA journal_mode = DELETE; CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB);`);
  const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
  for (let i = 0; i < 300; i++) insert.run(new Uint8Array(600).fill(i & 0xff));
  db.close();
  dbBytes = new Uint8Array(readFileSync(src));
  rmSync(src);
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    script(requests.length, req, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => {
  server?.close();
  server?.closeAllConnections();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  requests = [];
  for (const f of readdirSync(dir)) rmSync(path.join(dir, f), { force: true });
});

/** The whole database with the headers of the real route. */
function full(res: ServerResponse, bytes: Uint8Array = dbBytes, txid = TXID): void {
  res.writeHead(200, { 'content-type': 'application/vnd.sqlite3', 'content-length': String(bytes.length), 'ltx-txid': txid });
  res.end(bytes);
}

/** Announces the whole database, sends `bytes` of it, then drops the connection. */
function cutOff(res: ServerResponse, bytes: number): void {
  res.writeHead(200, { 'content-type': 'application/vnd.sqlite3', 'content-length': String(dbBytes.length), 'ltx-txid': TXID });
  res.write(dbBytes.subarray(0, bytes), () => res.socket?.destroy());
}

function restore(out: string, opts: RestoreOptions = {}) {
  const client = new ApiClient({ url, token: 't' }, { retries: 1, sleep: async () => {} });
  return restoreDatabase(client, 'db', out, { progress: false, restartDelayMs: 0, ...opts });
}

/** Files left in the test directory besides `keep`. */
function leftovers(...keep: string[]): string[] {
  return readdirSync(dir).filter((f) => !keep.includes(f));
}

describe('restoreDatabase', () => {
  it('downloads the file, checks it and names the TXID, page size and commit', async () => {
    script = (_, __, res) => full(res);
    const out = path.join(dir, 'out.db');
    const r = await restore(out, { verify: true });
    expect(r).toMatchObject({
      out,
      db: 'db',
      txid: TXID,
      size: dbBytes.length,
      pageSize: 4096,
      commit: dbBytes.length / 4096,
      attempts: 1,
      integrity: 'ok',
    });
    expect(Buffer.compare(readFileSync(out), dbBytes)).toBe(0);
    expect(requests).toEqual(['/v1/databases/db/snapshot?format=sqlite']);
    expect(leftovers('out.db')).toEqual([]);
  });

  it('sends the point: txid, or at (encoded)', async () => {
    script = (_, __, res) => full(res);
    await restore(path.join(dir, 'a.db'), { txid: TXID });
    await restore(path.join(dir, 'b.db'), { at: '2024-06-15T12:30:00+02:00' });
    expect(requests).toEqual([
      `/v1/databases/db/snapshot?format=sqlite&txid=${TXID}`,
      '/v1/databases/db/snapshot?format=sqlite&at=2024-06-15T12%3A30%3A00%2B02%3A00',
    ]);
  });

  it('restarts a download that broke off, at the TXID it had begun (not the new head)', async () => {
    script = (n, _, res) => (n === 1 ? cutOff(res, 50_000) : full(res));
    const out = path.join(dir, 'out.db');
    const restarts: string[] = [];
    const r = await restore(out, { at: '5 minutes ago', onRestart: ({ error }) => restarts.push(error.code) });
    expect(r.attempts).toBe(2);
    expect(restarts).toEqual(['BROKEN_DOWNLOAD']);
    expect(requests).toEqual([
      '/v1/databases/db/snapshot?format=sqlite&at=5+minutes+ago',
      `/v1/databases/db/snapshot?format=sqlite&txid=${TXID}`,
    ]);
    expect(Buffer.compare(readFileSync(out), dbBytes)).toBe(0);
    expect(leftovers('out.db')).toEqual([]);
  });

  it('without a Content-Length, restarts a body that ended early (fewer pages than the SQLite header says)', async () => {
    script = (n, _, res) => {
      res.writeHead(200, { 'content-type': 'application/vnd.sqlite3', 'ltx-txid': TXID }); // chunked
      res.end(n === 1 ? dbBytes.subarray(0, 4096 * 3) : dbBytes);
    };
    const out = path.join(dir, 'out.db');
    const codes: string[] = [];
    const r = await restore(out, { onRestart: ({ error }) => codes.push(error.code) });
    expect(codes).toEqual(['SIZE_MISMATCH']);
    expect(r.attempts).toBe(2);
    expect(Buffer.compare(readFileSync(out), dbBytes)).toBe(0);
  });

  it('restarts a download that stalls', async () => {
    script = (n, _, res) => {
      if (n > 1) return full(res);
      res.writeHead(200, { 'content-length': String(dbBytes.length), 'ltx-txid': TXID });
      res.write(dbBytes.subarray(0, 8192)); // …and nothing more
    };
    const out = path.join(dir, 'out.db');
    const codes: string[] = [];
    const r = await restore(out, { idleTimeoutMs: 300, onRestart: ({ error }) => codes.push(error.message) });
    expect(r.attempts).toBe(2);
    expect(codes[0]).toMatch(/nothing received/);
    expect(Buffer.compare(readFileSync(out), dbBytes)).toBe(0);
  });

  it('gives up after the restarts with INCOMPLETE_DOWNLOAD and leaves nothing behind', async () => {
    script = (_, __, res) => cutOff(res, 10_000);
    const out = path.join(dir, 'out.db');
    const e = await restore(out, { restarts: 2 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OperationError);
    expect((e as OperationError).code).toBe('INCOMPLETE_DOWNLOAD');
    expect(requests).toHaveLength(3);
    expect(leftovers()).toEqual([]);
  });

  it("passes on the server's refusal (410 TXID_NOT_AVAILABLE) and leaves nothing behind", async () => {
    script = (_, __, res) => {
      res.writeHead(410, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'TXID_NOT_AVAILABLE', message: 'gone', details: { oldest: '0000000000000009' } } }));
    };
    const e = await restore(path.join(dir, 'out.db'), { txid: '0000000000000001' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiClientError);
    expect((e as ApiClientError).code).toBe('TXID_NOT_AVAILABLE');
    expect(leftovers()).toEqual([]);
  });

  it.each([
    ['no LTX-TXID header', (res: ServerResponse) => res.end(dbBytes)],
    ['another TXID than asked', (res: ServerResponse) => full(res, dbBytes, '0000000000000001')],
    ['not a SQLite file', (res: ServerResponse) => full(res, new Uint8Array(8192).fill(7))],
  ])('refuses an answer with %s: BAD_RESPONSE, nothing behind', async (_, answer) => {
    script = (__, ___, res) => answer(res);
    const e = await restore(path.join(dir, 'out.db'), { txid: TXID }).catch((x: unknown) => x);
    expect((e as OperationError).code).toBe('BAD_RESPONSE');
    expect(leftovers()).toEqual([]);
  });

  it('--verify keeps a corrupt download out of place: INTEGRITY_CHECK_FAILED', async () => {
    const corrupt = dbBytes.slice();
    corrupt.fill(0xee, 4096 * 2 + 100, 4096 * 3); // inside a table b-tree page
    script = (_, __, res) => full(res, corrupt);
    const e = await restore(path.join(dir, 'out.db'), { verify: true }).catch((x: unknown) => x);
    expect((e as OperationError).code).toBe('INTEGRITY_CHECK_FAILED');
    expect(leftovers()).toEqual([]);
    // Without --verify the bytes are what the server sent.
    const r = await restore(path.join(dir, 'out.db'));
    expect(r.integrity).toBeUndefined();
    expect(integrityCheck(path.join(dir, 'out.db'))).not.toBe('ok');
  });

  it('refuses to replace <out> without force; replaces it with force', async () => {
    script = (_, __, res) => full(res);
    const out = path.join(dir, 'out.db');
    writeFileSync(out, 'precious');
    const e = await restore(out).catch((x: unknown) => x);
    expect((e as OperationError).code).toBe('EEXIST');
    expect(requests).toEqual([]); // decided before any download
    expect(readFileSync(out, 'utf8')).toBe('precious');
    await restore(out, { force: true });
    expect(Buffer.compare(readFileSync(out), dbBytes)).toBe(0);
    expect(leftovers('out.db')).toEqual([]);
  });
});

describe('ltx-edge restore (the executable)', () => {
  it('prints {out, txid, size, pageSize, commit} with --json', async () => {
    script = (_, __, res) => full(res);
    const out = path.join(dir, 'cli.db');
    const r = await runCLIAsyncJSON<Record<string, unknown>>(['restore', url, 'db', '-o', out, '--txid', '2A', '--json', '--verify']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.json).toMatchObject({
      out,
      db: 'db',
      txid: TXID,
      size: dbBytes.length,
      pageSize: 4096,
      commit: dbBytes.length / 4096,
      integrity: 'ok',
    });
    expect(r.stderr).toBe(''); // no progress bar when stderr is not a terminal
    const human = await runCLIAsync(['restore', url, 'db', '-o', out]);
    expect(human.status).toBe(1);
    expect(human.stderr).toContain('EEXIST');
  });

  it('reports a refusal with exit 1 and the code in --json', async () => {
    script = (_, __, res) => {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'database db does not exist' } }));
    };
    const r = await runCLIAsyncJSON<{ error: { code: string; status: number } }>([
      'restore',
      url,
      'db',
      '-o',
      path.join(dir, 'x.db'),
      '--json',
    ]);
    expect(r.status).toBe(1);
    expect(r.json.error).toMatchObject({ code: 'NOT_FOUND', status: 404 });
    expect(leftovers()).toEqual([]);
  });

  it.each([
    ['no -o', ['restore', 'http://x', 'db']],
    ['no db', ['restore', 'http://x', '-o', 'o.db']],
    ['--txid and --at', ['restore', 'http://x', 'db', '-o', 'o.db', '--txid', '1', '--at', 'now']],
    ['a bad --txid', ['restore', 'http://x', 'db', '-o', 'o.db', '--txid', 'xyz']],
    ['--txid 0', ['restore', 'http://x', 'db', '-o', 'o.db', '--txid', '0']],
  ])('%s is a usage error (exit 2)', (_, args) => {
    const r = runCLI(args);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('Usage: ltx-edge restore');
  });
});
