// ApiClient over a fake fetch: auth header, JSON errors, which failures are retried, streamed bodies; config resolution; progress lines.

import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/cli/cli-errors.ts';
import { ApiClient, ApiClientError, type RetryInfo } from '../../../src/remote/http-client.ts';
import { resolveClientConfig } from '../../../src/cli/remote-cli.ts';
import { createProgress, formatProgressLine } from '../../../src/remote/progress.ts';

type Answer = Response | Error | (() => Response | Error);

/** A fetch that answers from a script and records each call (with the body read out). */
function fakeFetch(answers: Answer[]) {
  const calls: { url: string; init: RequestInit & { duplex?: string }; body: string }[] = [];
  const fn = (async (url: string, init: RequestInit & { duplex?: string }) => {
    let body = '';
    if (init.body instanceof ReadableStream) {
      const chunks: Uint8Array[] = [];
      for await (const c of init.body as ReadableStream<Uint8Array>) chunks.push(c);
      body = Buffer.concat(chunks).toString();
    } else if (typeof init.body === 'string') {
      body = init.body;
    }
    calls.push({ url, init, body });
    const a = answers.shift();
    const r = typeof a === 'function' ? a() : a;
    if (r === undefined) throw new Error('no more answers');
    if (r instanceof Error) throw r;
    return r;
  }) as unknown as typeof fetch;
  return { fn, calls };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
const refused = (): Error =>
  new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }) });
const POS = { txid: '0000000000000001', postApplyChecksum: '8000000000000000' };
const CONFIG = { url: 'http://server.test:8787/base', token: 'tok' };

function client(answers: Answer[]) {
  const f = fakeFetch(answers);
  const retries: RetryInfo[] = [];
  const c = new ApiClient(CONFIG, { fetch: f.fn, sleep: async () => undefined, onRetry: (i) => retries.push(i) });
  return { c, calls: f.calls, retries };
}

const streamOf = (text: string): ReadableStream<Uint8Array> =>
  new ReadableStream({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(text));
      controller.close();
    },
  });

describe('ApiClient', () => {
  it('sends the bearer token, keeps the base path, streams the body half-duplex without redirects', async () => {
    const { c, calls } = client([json(201, { pos: POS })]);
    const r = await c.pushLTX('orders', () => streamOf('ltx bytes'), { contentLength: 9 });
    expect(r).toEqual({ status: 201, pos: POS });
    expect(calls).toHaveLength(1);
    expect(calls[0].url).toBe('http://server.test:8787/base/v1/databases/orders/ltx');
    expect(calls[0].body).toBe('ltx bytes');
    expect(calls[0].init).toMatchObject({ method: 'POST', duplex: 'half', redirect: 'error' });
    expect((calls[0].init.headers as Record<string, string>).authorization).toBe('Bearer tok');
    expect((calls[0].init.headers as Record<string, string>)['content-length']).toBe('9');
  });

  it('turns the JSON error into ApiClientError and does not retry a 409', async () => {
    const { c, calls, retries } = client([json(409, { error: { code: 'POSITION_MISMATCH', message: 'gap', details: { pos: POS } } })]);
    const e = await c.pushLTX('db', () => streamOf('x')).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ApiClientError);
    expect(e).toMatchObject({ status: 409, code: 'POSITION_MISMATCH', message: 'gap', details: { pos: POS } });
    expect(calls).toHaveLength(1);
    expect(retries).toEqual([]);
  });

  it('retries 503 and network errors with a fresh body each attempt, then succeeds', async () => {
    const { c, calls, retries } = client([
      json(503, { error: { code: 'STORAGE_UNAVAILABLE', message: 'later' } }),
      refused(),
      json(200, { pos: POS }),
    ]);
    const attempts: number[] = [];
    const r = await c.pushLTX('db', (attempt) => {
      attempts.push(attempt);
      return streamOf(`try ${attempt}`);
    });
    expect(r.status).toBe(200);
    expect(attempts).toEqual([1, 2, 3]);
    expect(calls.map((x) => x.body)).toEqual(['try 1', 'try 2', 'try 3']);
    expect(retries.map((x) => [x.attempt, x.error.code])).toEqual([
      [1, 'STORAGE_UNAVAILABLE'],
      [2, 'NETWORK_ERROR'],
    ]);
    expect(retries[1].error.details).toEqual({ cause: 'ECONNREFUSED' });
  });

  it('gives up after the retries with the last error; a non-JSON body gets HTTP_<status>', async () => {
    const bad = (): Response => new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway' });
    const { c, calls } = client([bad, bad, bad, bad, bad]);
    const e = await c.json('GET', '/v1/databases').catch((err: unknown) => err);
    expect(e).toMatchObject({ status: 502, code: 'HTTP_502' });
    expect((e as Error).message).toContain('bad gateway');
    expect(calls).toHaveLength(5); // DEFAULT_RETRIES + 1
  });

  it('does not retry a write that did not opt in', async () => {
    const { c, calls } = client([json(503, { error: { code: 'STORAGE_UNAVAILABLE', message: 'x' } }), json(201, {})]);
    await expect(c.request('POST', '/v1/databases/db/tx', { body: () => 'x' })).rejects.toMatchObject({ status: 503 });
    expect(calls).toHaveLength(1);
  });

  it("throws the body's own error unchanged and never retries it", async () => {
    const diskError = Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
    const f = (async (_url: string, init: RequestInit) => {
      for await (const _ of init.body as ReadableStream<Uint8Array>) void _;
      return json(201, {});
    }) as unknown as typeof fetch;
    let attempts = 0;
    const c = new ApiClient(CONFIG, { fetch: f, sleep: async () => undefined });
    const failing = () => {
      attempts++;
      return new ReadableStream<Uint8Array>({
        pull() {
          throw diskError;
        },
      });
    };
    await expect(c.pushLTX('db', failing)).rejects.toBe(diskError);
    expect(attempts).toBe(1);
  });

  it('databaseInfo: undefined on 404, the body otherwise', async () => {
    const { c } = client([json(404, { error: { code: 'NOT_FOUND', message: 'no' } }), json(200, { name: 'a', pos: POS, commit: 3 })]);
    expect(await c.databaseInfo('a')).toBeUndefined();
    expect(await c.databaseInfo('a')).toMatchObject({ name: 'a', commit: 3 });
  });
});

describe('resolveClientConfig', () => {
  const usage = 'usage';
  it.each([
    ['a URL positional wins', ['http://a:1', 'db', 'f'], {}, { LTX_EDGE_URL: 'http://env:2' }, 'http://a:1/', ['db', 'f']],
    ['--url when no URL positional', ['db', 'f'], { url: 'https://flag' }, { LTX_EDGE_URL: 'http://env:2' }, 'https://flag/', ['db', 'f']],
    ['LTX_EDGE_URL last', ['db', 'f'], {}, { LTX_EDGE_URL: 'http://env:2' }, 'http://env:2/', ['db', 'f']],
  ])('%s', (_, positionals, flags, env, url, rest) => {
    const r = resolveClientConfig(positionals, flags, usage, env);
    expect(r.config.url).toBe(url);
    expect(r.rest).toEqual(rest);
  });

  it('token: --token, else LTX_EDGE_TOKEN, else none', () => {
    expect(resolveClientConfig(['http://a'], { token: 't1' }, usage, { LTX_EDGE_TOKEN: 't2' }).config.token).toBe('t1');
    expect(resolveClientConfig(['http://a'], {}, usage, { LTX_EDGE_TOKEN: 't2' }).config.token).toBe('t2');
    expect(resolveClientConfig(['http://a'], {}, usage, {}).config.token).toBeUndefined();
  });

  it.each([
    ['no URL at all', ['db'], {}],
    ['not http(s)', ['db'], { url: 'ftp://x' }],
    ['not a URL', ['db'], { url: 'nope' }],
  ])('usage error: %s', (_, positionals, flags) => {
    expect(() => resolveClientConfig(positionals, flags, usage, {})).toThrow(UsageError);
  });
});

describe('progress', () => {
  it('formats bytes, percent and MB/s within the width', () => {
    const line = formatProgressLine('file.ltx', 5_000_000, 10_000_000, 2000, 80);
    expect(line).toMatch(/^file\.ltx \[#+-+\]\s+50%\s+5\.00\/10\.0 MB\s+2\.5 MB\/s$/);
    expect(line.length).toBeLessThanOrEqual(80);
    expect(formatProgressLine('x', 1_500_000, undefined, 1000, 80)).toBe('x  1.50 MB  1.5 MB/s');
    const long = formatProgressLine('/a/very/long/path/'.repeat(10) + 'f.ltx', 1, 2, 1, 60);
    expect(long.length).toBeLessThanOrEqual(60);
    expect(long.startsWith('…')).toBe(true);
  });

  it('draws nothing unless enabled (stderr not a TTY), and ends with a newline when it does', () => {
    const written: string[] = [];
    const stream = { write: (s: string) => written.push(s), columns: 80, isTTY: false } as unknown as NodeJS.WriteStream;
    const off = createProgress({ label: 'f', total: 10, stream });
    off.add(5);
    off.done();
    expect(written).toEqual([]);

    let t = 0;
    const on = createProgress({ label: 'f', total: 10, stream, enabled: true, now: () => t, intervalMs: 100 });
    on.add(1); // first draw
    t = 50;
    on.add(1); // too soon: skipped
    t = 200;
    on.add(8);
    on.done();
    on.done();
    expect(written).toHaveLength(3);
    expect(written.every((s) => s.startsWith('\r'))).toBe(true);
    expect(written[2]).toMatch(/100%.*\n$/);
  });
});
