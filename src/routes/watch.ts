// GET /v1/databases/:db/watch: Server-Sent Events, one per commit, relayed as they come from the database's DO over a hibernatable WebSocket.

import { Hono } from 'hono';
import { requireScope } from '../auth.ts';
import type { AppEnv } from '../env.ts';
import { ApiError, type ErrorCode, type ErrorDetails } from '../errors.ts';
import { formatTXID } from '../ltx/index.ts';
import { dbName, parseTXIDParam } from './params.ts';

/** A comment line this often keeps proxies from closing an idle stream. */
export const WATCH_KEEPALIVE_MS = 25_000;
/** What an EventSource waits before reconnecting (the stream's `retry:`). */
const RETRY_MS = 2000;

const encoder = new TextEncoder();

export const watchRoutes = new Hono<AppEnv>();

watchRoutes.get('/:db/watch', requireScope('read'), async (c) => {
  const name = dbName(c);
  // An EventSource that reconnects sends the last id it saw: newer than the URL's `since`.
  const lastEventId = c.req.header('Last-Event-ID');
  const since = lastEventId ? parseTXIDParam('Last-Event-ID', lastEventId.trim()) : parseTXIDParam('since', c.req.query('since'));
  const url = new URL('https://database/watch');
  url.searchParams.set('name', name);
  if (since !== undefined) url.searchParams.set('since', formatTXID(since));
  const answer = await c.env.DATABASE.getByName(name).fetch(url, { headers: { Upgrade: 'websocket' } });
  const socket = answer.webSocket;
  if (answer.status !== 101 || !socket) {
    const body = (await answer.json().catch(() => undefined)) as
      | { error?: { code: ErrorCode; message: string; details?: ErrorDetails } }
      | undefined;
    if (!body?.error) throw new Error(`watch: the database answered ${answer.status}`);
    throw new ApiError(body.error.code, body.error.message, body.error.details);
  }
  socket.accept();
  let keepalive: ReturnType<typeof setInterval> | undefined;
  const stop = (): void => {
    clearInterval(keepalive);
    try {
      socket.close(1000, 'watcher gone');
    } catch {
      // Closed already.
    }
  };
  // The client went away (compatibility flag enable_request_signal): let the DO go now, not at the next keepalive.
  c.req.raw.signal.addEventListener('abort', stop);
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (text: string): void => {
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          stop(); // The stream is closed: the client went away.
        }
      };
      send(`: watching ${name}\nretry: ${RETRY_MS}\n\n`);
      // The DO sends each event already as SSE text (durable/watchers.ts sseEvent): relayed as it is.
      socket.addEventListener('message', (e) => send(String(e.data)));
      socket.addEventListener('close', () => {
        clearInterval(keepalive);
        try {
          controller.close();
        } catch {
          // Cancelled already.
        }
      });
      keepalive = setInterval(() => send(': keepalive\n\n'), WATCH_KEEPALIVE_MS);
    },
    cancel: stop,
  });
  return new Response(body, {
    headers: {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Accel-Buffering': 'no',
    },
  });
});
