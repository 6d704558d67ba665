// The request log through the Worker entry: console.log gets one JSON line per request, with the route pattern, database, status, ms and error code.

import { exports } from 'cloudflare:workers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RequestLogEntry } from '../../src/log.ts';

const BASE = 'https://ltx-edge.test';
const DEV = { authorization: 'Bearer dev-token' };

afterEach(() => {
  vi.restoreAllMocks();
});

/** Runs `fn` and returns the request-log lines console.log received meanwhile. */
async function logged(fn: () => Promise<unknown>): Promise<{ lines: string[]; entries: RequestLogEntry[] }> {
  const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  await fn();
  const lines = log.mock.calls.map((args) => String(args[0])).filter((l) => l.startsWith('{"ts":'));
  return { lines, entries: lines.map((l) => JSON.parse(l) as RequestLogEntry) };
}

async function get(path: string, headers?: Record<string, string>): Promise<number> {
  const res = await exports.default.fetch(BASE + path, { headers });
  await res.body?.cancel();
  return res.status;
}

describe('request log', () => {
  it('one line per request: ts, method, route pattern, db, status, ms, code on errors', async () => {
    const { lines, entries } = await logged(async () => {
      expect(await get('/v1/health')).toBe(200);
      expect(await get('/v1/databases/log-missing', DEV)).toBe(404);
      expect(await get('/v1/databases/log-missing/pages/1', { authorization: 'Bearer wrong-token-value' })).toBe(401);
      expect(await get('/v1/databases/NOT_VALID', DEV)).toBe(400);
      expect(await get('/v1/nowhere')).toBe(404);
    });
    expect(entries).toHaveLength(5);
    for (const e of entries) {
      expect(Date.parse(e.ts)).not.toBeNaN();
      expect(e.method).toBe('GET');
      expect(typeof e.ms).toBe('number');
      expect(e.ms).toBeGreaterThanOrEqual(0);
    }
    expect(entries.map(({ route, db, status, code }) => ({ route, db, status, code }))).toEqual([
      { route: '/v1/health', db: null, status: 200, code: undefined },
      { route: '/v1/databases/:db', db: 'log-missing', status: 404, code: 'NOT_FOUND' },
      { route: '/v1/databases/:db/pages/:pgno', db: 'log-missing', status: 401, code: 'UNAUTHORIZED' },
      { route: '/v1/databases/:db', db: null, status: 400, code: 'INVALID_NAME' },
      { route: null, db: null, status: 404, code: 'NOT_FOUND' },
    ]);
    for (const line of lines) expect(line).not.toMatch(/dev-token|wrong-token-value/);
  });
});
