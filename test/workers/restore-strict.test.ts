// POST …/restore reads its body strictly: wrong types, arrays for strings, unknown fields, deep nesting and oversize bodies are a 400 or 413 naming the problem, and nothing is restored.

import { exports } from 'cloudflare:workers';
import { beforeAll, expect, it } from 'vitest';
import { buildChain } from '../helpers/chain.ts';

const BASE = 'https://ltx-edge.test';
const AUTH = { authorization: 'Bearer dev-token' };
const DB = 'restore-strict';

async function head(): Promise<unknown> {
  const res = await exports.default.fetch(`${BASE}/v1/databases/${DB}`, { headers: AUTH });
  const info = (await res.json()) as { pos: unknown; levels: unknown };
  return { pos: info.pos, levels: info.levels };
}

beforeAll(async () => {
  for (const f of await buildChain({ seed: 9191, count: 4, tracked: true })) {
    const res = await exports.default.fetch(`${BASE}/v1/databases/${DB}/ltx`, { method: 'POST', headers: AUTH, body: f.bytes });
    expect(res.status).toBe(201);
    await res.body?.cancel();
  }
});

const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
const CASES: [string, string, number, string | null][] = [
  ['at given as an array', '{"at": ["now"]}', 400, 'at'],
  ['txid given as a number', '{"txid": 2}', 400, 'txid'],
  ['txid given as an object', '{"txid": {"hex": "2"}}', 400, 'txid'],
  ['an array body', '[]', 400, null],
  ['a string body', '"now"', 400, null],
  ['null', 'null', 400, null],
  ['an unknown field', '{"txid": "0000000000000002", "force": true}', 400, null],
  ['both txid and at', '{"txid": "0000000000000002", "at": "now"}', 400, null],
  ['neither', '{}', 400, null],
  ['txid nested 20,000 deep', `{"txid": ${deep(20_000)}}`, 400, null],
  ['a body nested 1,000 deep', deep(1_000), 400, null],
  ['not JSON', '{"txid": ', 400, null],
  ['a body over 64 KiB', JSON.stringify({ txid: '0'.repeat(70_000) }), 413, null],
];

it.each(CASES)('%s: refused, and nothing restored', async (_what, body, status, field) => {
  const before = await head();
  const res = await exports.default.fetch(`${BASE}/v1/databases/${DB}/restore`, {
    method: 'POST',
    headers: { ...AUTH, 'content-type': 'application/json' },
    body,
  });
  const json = (await res.json()) as { error: { code: string; message: string; details?: { field?: string | null } } };
  expect({ status: res.status, code: json.error.code }).toEqual({ status, code: status === 413 ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST' });
  if (field !== null) expect(json.error.details?.field).toBe(field);
  expect(await head()).toEqual(before);
});
