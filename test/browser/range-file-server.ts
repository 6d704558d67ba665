// Stand-in for ltx-edge read links: a Node HTTP server serving in-memory SQLite files with the links' Range, ETag and CORS behaviour, logging every request.

import { createHash } from 'node:crypto';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the server saw it (preflights included): what a browser-side count is checked against. */
export interface ServedRequest {
  method: string;
  path: string;
  range: string | undefined;
  status: number;
  /** Body bytes sent (0 for HEAD, OPTIONS and errors). */
  bytes: number;
}

export interface RangeFileServer {
  /** The URL that serves `name` (added with `put`). */
  url(name: string): string;
  /** Adds or replaces a file. */
  put(name: string, bytes: Uint8Array): void;
  /** Every request so far, oldest first. */
  readonly log: ServedRequest[];
  close(): Promise<void>;
}

/** Headers a page on another origin may read, as the links route exposes them (DESIGN §4a). */
const EXPOSED = 'Content-Range, Content-Length, Accept-Ranges, ETag, LTX-TXID';

/** Starts the stand-in on 127.0.0.1 and a free port. Unknown names answer 404, like a link whose MAC does not verify answers non-2xx. */
export async function startRangeFileServer(): Promise<RangeFileServer> {
  const files = new Map<string, { bytes: Uint8Array; etag: string }>();
  const log: ServedRequest[] = [];
  const server = createServer((req, res) => {
    const entry: ServedRequest = { method: req.method ?? '', path: req.url ?? '', range: req.headers.range, status: 0, bytes: 0 };
    log.push(entry);
    answer(req, res, files.get(decodeURIComponent((req.url ?? '').replace(/^\/files\//, '').split('?')[0])), entry);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: (name) => `${base}/files/${encodeURIComponent(name)}`,
    put(name, bytes) {
      files.set(name, { bytes, etag: `"${createHash('sha256').update(bytes).digest('hex').slice(0, 32)}"` });
    },
    log,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Answers one request; returns what it sent (the status). */
function answer(
  req: IncomingMessage,
  res: ServerResponse,
  file: { bytes: Uint8Array; etag: string } | undefined,
  entry: ServedRequest,
): number {
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.setHeader('Access-Control-Expose-Headers', EXPOSED);
  const send = (status: number, headers: Record<string, string | number>, body?: Uint8Array): number => {
    entry.status = status;
    entry.bytes = req.method === 'GET' && body ? body.length : 0;
    res.writeHead(status, headers);
    res.end(req.method === 'GET' ? body : undefined);
    return status;
  };
  if (req.method === 'OPTIONS') {
    return send(204, {
      'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
      'Access-Control-Allow-Headers': 'Range, If-Range, If-None-Match',
      'Access-Control-Max-Age': 86400,
    });
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, { Allow: 'GET, HEAD, OPTIONS' });
  if (!file) return send(404, { 'Content-Type': 'text/plain' }, new TextEncoder().encode('no such file\n'));
  const size = file.bytes.length;
  // Cacheable, as a link answer is (for the link's remaining lifetime).
  const common = {
    'Accept-Ranges': 'bytes',
    ETag: file.etag,
    'Content-Type': 'application/vnd.sqlite3',
    'Cache-Control': 'public, max-age=600',
  };
  const range = parseRange(req.headers.range, size);
  if (range === 'unsatisfiable') return send(416, { ...common, 'Content-Range': `bytes */${size}` });
  if (range === undefined) return send(200, { ...common, 'Content-Length': size }, file.bytes);
  const [a, b] = range;
  return send(206, { ...common, 'Content-Length': b - a + 1, 'Content-Range': `bytes ${a}-${b}/${size}` }, file.bytes.subarray(a, b + 1));
}

/** One `bytes=a-b` / `a-` / `-n` range, clamped to the file; several ranges or a malformed header → undefined (200, whole file). */
export function parseRange(header: string | undefined, size: number): [number, number] | 'unsatisfiable' | undefined {
  const m = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const n = Number(m[2]);
    return n === 0 ? 'unsatisfiable' : [Math.max(0, size - n), size - 1];
  }
  const a = Number(m[1]);
  const b = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  return a >= size || b < a ? 'unsatisfiable' : [a, b];
}
