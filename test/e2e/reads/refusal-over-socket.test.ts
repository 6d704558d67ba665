// Refusals over a real socket (wrangler dev): a client still sending an oversized or refused chunked body receives the 4xx, not a reset.

import { request } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { HEADER_FLAG_NO_CHECKSUM } from '../../../src/ltx/constants.ts';
import { makeHeader, writeHeaderBytes } from '../../../src/ltx/header.ts';
import { DEV_TOKEN, type DevServer, startDevServer } from '../../helpers/dev-server.ts';

let server: DevServer;

beforeAll(async () => {
  server = await startDevServer();
}, 90_000);

afterAll(async () => {
  await server?.stop();
});

interface Outcome {
  status?: number;
  body: string;
  /** What the client's side of the request reported (a reset, a broken pipe), if anything. */
  error?: string;
  sent: number;
}

/** POSTs `first`, then `total` bytes of filler in 64 KiB writes with no Content-Length (chunked), honouring backpressure. */
function postChunked(path: string, first: Uint8Array, total: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const out: Outcome = { body: '', sent: 0 };
    const url = new URL(path, server.url);
    const req = request(url.href, {
      method: 'POST',
      headers: { authorization: `Bearer ${DEV_TOKEN}`, 'content-type': 'application/octet-stream' },
    });
    // Resolves once the response has ended and the body is all sent, or at the first error.
    let responded = false;
    let sentAll = false;
    const settle = (error?: unknown) => {
      if (error !== undefined) out.error ??= String(error);
      if (out.error !== undefined || (responded && sentAll)) resolve(out);
    };
    req.on('response', (res) => {
      out.status = res.statusCode;
      res.setEncoding('utf8');
      res.on('data', (d: string) => (out.body += d));
      res.on('end', () => {
        responded = true;
        settle();
      });
      res.on('error', settle);
    });
    req.on('error', settle);
    const filler = new Uint8Array(64 * 1024).fill(0x20);
    const write = (): void => {
      while (out.sent < total) {
        out.sent += filler.length;
        if (!req.write(filler)) return void req.once('drain', write);
      }
      req.end(() => {
        sentAll = true;
        settle();
      });
    };
    req.write(first);
    write();
  });
}

it('a 6 MiB chunked JSON body to a 64 KiB route: the client sends it all and reads the 413', async () => {
  const r = await postChunked('/v1/databases/sock-json/restore', new TextEncoder().encode('{"txid": "'), 6 << 20);
  expect(r.error).toBeUndefined();
  expect(r.status).toBe(413);
  expect(JSON.parse(r.body)).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });
  expect(r.sent).toBeGreaterThanOrEqual(6 << 20);
}, 60_000);

it('a push whose header claims past the cap, with 24 MiB behind it: 413 DATABASE_TOO_LARGE, read by the client', async () => {
  const header = writeHeaderBytes(
    makeHeader({ pageSize: 4096, commit: 262_145, minTXID: 1n, maxTXID: 1n, flags: HEADER_FLAG_NO_CHECKSUM }),
  );
  const r = await postChunked('/v1/databases/sock-cap/ltx', header, 24 << 20);
  expect(r.error).toBeUndefined();
  expect(r.status).toBe(413);
  expect(JSON.parse(r.body)).toMatchObject({ error: { code: 'DATABASE_TOO_LARGE', details: { maxPages: 262_144 } } });
  const info = await fetch(`${server.url}/v1/databases/sock-cap`, { headers: { authorization: `Bearer ${DEV_TOKEN}` } });
  expect(info.status).toBe(404);
}, 60_000);

it('a 70 MiB chunked /tx body: 413 PAYLOAD_TOO_LARGE, read by the client', async () => {
  const r = await postChunked('/v1/databases/sock-tx/tx?base=0&page_size=4096', new Uint8Array(0), 70 << 20);
  expect(r.error).toBeUndefined();
  expect(r.status).toBe(413);
  expect(JSON.parse(r.body)).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });
}, 60_000);
