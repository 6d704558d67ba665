// `ltx-edge query` against a scripted HTTP server: the request it sends, the table and JSON outputs, refusals with hints, usage.

import { once } from 'node:events';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { formatTable } from '../../../src/cli/query.ts';
import { runCLIAsync, runCLIAsyncJSON } from '../../helpers/run-cli.ts';

const TXID = '000000000000002a';
const ANSWER = {
  columns: ['id', 'name', 'big', 'avatar', 'note'],
  rows: [
    [1, 'ann', '9223372036854775807', { base64: 'AAECAw==' }, null],
    [22, 'bob', 5, null, 'two\nlines'],
  ],
  pos: { txid: TXID, postApplyChecksum: '0000000000000000' },
  stats: { pagesRead: 4, pagesFetched: 3, sharedCacheHits: 1, r2Reads: 3, fetchRounds: 2, doCalls: 1, ms: 12 },
};

let server: Server;
let url = '';
let seen: { url: string; auth?: string; body: unknown }[] = [];
let answer: (req: IncomingMessage, res: ServerResponse) => void;

beforeAll(async () => {
  server = createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8').on('data', (d: string) => (text += d));
    req.on('end', () => {
      seen.push({ url: req.url ?? '', auth: req.headers.authorization, body: JSON.parse(text || 'null') });
      answer(req, res);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => {
  server?.close();
  server?.closeAllConnections();
});

beforeEach(() => {
  seen = [];
  answer = (_, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(ANSWER));
  };
});

function refuse(status: number, code: string, message: string, details?: Record<string, unknown>) {
  answer = (_, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { code, message, details } }));
  };
}

describe('ltx-edge query', () => {
  it('posts the statement with its point and params, prints a table and the cost on stderr', async () => {
    const r = await runCLIAsync([
      'query',
      url,
      'shop',
      'SELECT * FROM users WHERE id > ?',
      '--txid',
      '2A',
      '--params',
      '[0]',
      '--token',
      't',
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(seen).toEqual([
      { url: '/v1/databases/shop/query', auth: 'Bearer t', body: { sql: 'SELECT * FROM users WHERE id > ?', params: [0], txid: TXID } },
    ]);
    expect(r.stdout).toBe(
      [
        'id  name  big                  avatar      note',
        '--  ----  -------------------  ----------  ---------',
        ' 1  ann   9223372036854775807  <blob 4 B>  NULL',
        '22  bob   5                    NULL        two⏎lines',
        '',
      ].join('\n'),
    );
    expect(r.stderr).toContain(`2 rows at TXID ${TXID} (4 pages read, 3 R2 reads, 2 fetch rounds, 12 ms)`);
  });

  it('--json prints the answer as the server sent it; --at and --min-txid go in the body', async () => {
    const r = await runCLIAsyncJSON(['query', url, 'shop', 'SELECT 1', '--at', '5 minutes ago', '--min-txid', '7', '--json'], {
      env: { LTX_EDGE_TOKEN: 'env-token' },
    });
    expect(r.status).toBe(0);
    expect(r.json).toEqual(ANSWER);
    expect(seen[0]).toMatchObject({
      auth: 'Bearer env-token',
      body: { sql: 'SELECT 1', at: '5 minutes ago', min_txid: '0000000000000007' },
    });
  });

  it("a refusal exits 1 with the server's code and a hint; --json prints {error}", async () => {
    refuse(400, 'SQL_ERROR', 'no such column: nope', { sqliteCode: 1, offset: 7 });
    const r = await runCLIAsync(['query', url, 'shop', 'SELECT nope FROM users']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('SQL_ERROR no such column: nope');
    expect(r.stderr).toContain('near: SELECT ⟦nope FROM users');
    refuse(400, 'QUERY_NOT_READ_ONLY', 'only read-only statements are served');
    const j = await runCLIAsyncJSON<{ error: { code: string; status: number } }>(['query', url, 'shop', 'DELETE FROM users', '--json']);
    expect(j.status).toBe(1);
    expect(j.json.error).toMatchObject({ code: 'QUERY_NOT_READ_ONLY', status: 400 });
  });

  it('usage errors exit 2', async () => {
    for (const args of [
      ['query', url, 'shop'],
      ['query', url, 'shop', 'SELECT 1', '--txid', '1', '--at', 'now'],
      ['query', url, 'shop', 'SELECT 1', '--params', '{'],
      ['query', url, 'shop', 'SELECT 1', '--params', '3'],
      ['query', url, 'shop', 'SELECT 1', '--txid', 'xyz'],
      ['query', 'shop', 'SELECT 1'],
    ]) {
      const r = await runCLIAsync(args, { env: { LTX_EDGE_URL: undefined } });
      expect(r.status, args.join(' ')).toBe(2);
    }
    expect(seen).toEqual([]);
  });

  it('formatTable cuts wide cells', () => {
    expect(formatTable(['t'], [['x'.repeat(100)]], 10).split('\n')[2]).toBe('xxxxxxxxx…');
    expect(formatTable(['a', 'b'], [])).toBe('a  b\n-  -');
  });
});
