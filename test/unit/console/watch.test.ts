// The console's live head over fetch: SSE events to commits, resume with Last-Event-ID after the stream ends, `deleted`, a refused token, and polling where the route is missing.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { Api } from '../../../src/console/api.ts';
import type { CommitEvent } from '../../../src/console/types.ts';
import { POLL_MS, type WatchStatus, watch } from '../../../src/console/watch.ts';

const enc = new TextEncoder();

/** An SSE answer that sends `chunks` and ends. */
function stream(...chunks: string[]): Response {
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      for (const chunk of chunks) c.enqueue(enc.encode(chunk));
      c.close();
    },
  });
  return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

const notFound = (message: string) => json(404, { error: { code: 'NOT_FOUND', message } });

function info(txid: string) {
  return { name: 'shop', pos: { txid, postApplyChecksum: '00' }, commit: 2, pageSize: 4096, updatedAt: '2026-01-01T00:00:00.000Z' };
}

function commit(txid: string, since: string): CommitEvent {
  return { pos: { txid, postApplyChecksum: '00' }, since, commit: 2, pageSize: 4096, timestamp: '2026-01-01T00:00:00.000Z', all: false };
}

/** Answers fetches in order and records each one's path and Last-Event-ID. */
function serve(...answers: Response[]) {
  const seen: { path: string; lastEventId: string | null; auth: string | null }[] = [];
  vi.stubGlobal('fetch', async (path: string, init: RequestInit) => {
    const headers = new Headers(init.headers);
    seen.push({ path, lastEventId: headers.get('last-event-id'), auth: headers.get('authorization') });
    const next = answers.shift();
    if (!next) return new Promise<Response>(() => undefined); // nothing more: hang like an idle stream
    return next;
  });
  return seen;
}

function run(signal = new AbortController().signal) {
  const commits: CommitEvent[] = [];
  const statuses: string[] = [];
  let deleted = false;
  const done = watch({
    api: new Api('secret'),
    db: 'shop',
    lastEventId: '0000000000000001',
    signal,
    onCommit: (ev) => commits.push(ev),
    onDeleted: () => (deleted = true),
    onStatus: (s: WatchStatus, detail?: string) => statuses.push(detail ? `${s}: ${detail}` : s),
  });
  return { done, commits, statuses, deleted: () => deleted };
}

afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

describe('watch', () => {
  it('turns events into commits, resumes from the last id when the stream ends, and stops at `deleted`', async () => {
    const ev = commit('0000000000000002', '0000000000000001');
    const seen = serve(
      stream(': watching shop\r\nretry: 1\r\n\r\n', 'id: 0000000000000002\r\ndata: ', `${JSON.stringify(ev)}\r\n\r\n`),
      stream('event: deleted\ndata: {}\n\n'),
    );
    const r = run();
    await r.done;
    expect(r.commits).toEqual([ev]);
    expect(r.deleted()).toBe(true);
    expect(r.statuses).toEqual(['connecting', 'live', 'reconnecting', 'live']);
    expect(seen.map((s) => [s.path, s.lastEventId, s.auth])).toEqual([
      ['/v1/databases/shop/watch', '0000000000000001', 'Bearer secret'],
      ['/v1/databases/shop/watch', '0000000000000002', 'Bearer secret'],
    ]);
  });

  it('stops on a refused token', async () => {
    serve(json(401, { error: { code: 'UNAUTHORIZED', message: 'no' } }));
    const r = run();
    await r.done;
    expect(r.statuses.at(-1)).toBe('stopped: UNAUTHORIZED: no');
  });

  it('reports a deleted database when the watch route and the info are both 404', async () => {
    const seen = serve(notFound('database shop does not exist'), notFound('database shop does not exist'));
    const r = run();
    await r.done;
    expect(r.deleted()).toBe(true);
    expect(seen.map((s) => s.path)).toEqual(['/v1/databases/shop/watch', '/v1/databases/shop']);
  });

  it('polls the info every POLL_MS where the server has no watch route; a moved head is a commit', async () => {
    vi.useFakeTimers();
    serve(notFound('no route for GET /v1/databases/shop/watch'), json(200, info('0000000000000001')), json(200, info('0000000000000004')));
    const controller = new AbortController();
    const r = run(controller.signal);
    await vi.advanceTimersByTimeAsync(0);
    expect(r.statuses).toEqual(['connecting', 'polling']);
    expect(r.commits).toEqual([]);
    await vi.advanceTimersByTimeAsync(POLL_MS);
    expect(r.commits).toEqual([
      {
        pos: { txid: '0000000000000004', postApplyChecksum: '00' },
        since: '0000000000000001',
        commit: 2,
        pageSize: 4096,
        timestamp: '2026-01-01T00:00:00.000Z',
      },
    ]);
    controller.abort();
    await r.done;
  });
});
