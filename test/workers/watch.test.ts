// GET …/watch: one SSE event per commit in TXID order under concurrent pushes, resuming from Last-Event-ID, auth, limits, and closed watchers released.

import { env, exports } from 'cloudflare:workers';
import { runInDurableObject } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { SseParser, type SseEvent } from '../../src/api/sse.ts';
import type { DatabaseDO } from '../../src/durable/database.ts';
import type { CommitEvent } from '../../src/durable/watchers.ts';
import { type ChainFile, buildChain } from '../helpers/chain.ts';

const BASE = 'https://ltx-edge.test';
const AUTH = { authorization: 'Bearer dev-token' };
const hex = (n: bigint | number) => n.toString(16).padStart(16, '0');

/** An open watch stream, read event by event. */
class Watch {
  private readonly reader: ReadableStreamDefaultReader<string>;
  private readonly parser = new SseParser();
  private readonly queued: SseEvent[] = [];
  ended = false;

  constructor(res: Response) {
    this.reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** The next event; undefined when the stream ended first. */
  async next(): Promise<SseEvent | undefined> {
    while (this.queued.length === 0) {
      const r = await this.reader.read();
      if (r.done) {
        this.ended = true;
        return undefined;
      }
      this.queued.push(...this.parser.push(r.value));
    }
    return this.queued.shift();
  }

  async commits(n: number): Promise<{ id: string; data: CommitEvent }[]> {
    const out: { id: string; data: CommitEvent }[] = [];
    while (out.length < n) {
      const e = await this.next();
      if (e === undefined) throw new Error(`stream ended after ${out.length} of ${n} events`);
      expect(e.type).toBe('message');
      out.push({ id: e.lastEventId, data: JSON.parse(e.data) as CommitEvent });
    }
    return out;
  }

  close(): Promise<void> {
    return this.reader.cancel();
  }
}

async function watch(db: string, headers: Record<string, string> = {}, query = ''): Promise<Watch> {
  const res = await exports.default.fetch(`${BASE}/v1/databases/${db}/watch${query}`, { headers: { ...AUTH, ...headers } });
  expect(res.status, await peekError(res)).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
  expect(res.headers.get('cache-control')).toBe('no-store');
  return new Watch(res);
}

async function peekError(res: Response): Promise<string> {
  return res.status === 200 ? '' : await res.clone().text();
}

async function push(db: string, f: ChainFile): Promise<number> {
  const res = await exports.default.fetch(`${BASE}/v1/databases/${db}/ltx`, { method: 'POST', headers: AUTH, body: f.bytes });
  await res.body?.cancel();
  return res.status;
}

/** Pushes every file at once; a file that arrives before its predecessor is refused (409) and sent again. */
async function pushConcurrently(db: string, files: ChainFile[]): Promise<void> {
  await Promise.all(
    files.map(async (f) => {
      for (let attempt = 0; attempt < 200; attempt++) {
        const status = await push(db, f);
        if (status === 201 || status === 200) return;
        expect(status).toBe(409);
      }
      throw new Error(`${f.name} never landed`);
    }),
  );
}

/** The event a file's commit must produce, given the file before it. */
function expected(f: ChainFile, previous: ChainFile | undefined): Partial<CommitEvent> {
  const shrank = previous !== undefined && f.commit < previous.commit;
  return {
    pos: { txid: hex(f.maxTXID), postApplyChecksum: hex(f.checksum) },
    since: hex(f.minTXID - 1n),
    commit: f.commit,
    pageSize: 4096,
    all: shrank,
    ...(shrank ? {} : { pgnos: f.pgnos }),
  };
}

async function watchers(db: string): Promise<number> {
  const res = await exports.default.fetch(`${BASE}/v1/databases/${db}/stats`, { headers: AUTH });
  return ((await res.json()) as { watchers: number }).watchers;
}

describe('GET /v1/databases/:db/watch', () => {
  it('sends one event per commit, in TXID order, while writers push concurrently', async () => {
    const db = 'watch-order';
    const chain = await buildChain({ seed: 901, count: 25, tracked: true });
    expect(await push(db, chain[0])).toBe(201);
    const w = await watch(db);
    await pushConcurrently(db, chain.slice(1));
    const events = await w.commits(24);
    events.forEach((e, i) => {
      expect(e.id).toBe(hex(i + 2));
      expect(e.data).toMatchObject(expected(chain[i + 1], chain[i]));
      expect(Date.parse(e.data.timestamp)).toBe(1_700_000_000_000 + i + 1);
    });
    // Both kinds of event occur in this chain: listed pages and a shrink.
    expect(events.some((e) => e.data.all)).toBe(true);
    expect(events.some((e) => !e.data.all)).toBe(true);
    await w.close();
  });

  it('resumes from Last-Event-ID (or ?since=) with exactly the commits missed, one by one', async () => {
    const db = 'watch-resume';
    const chain = await buildChain({ seed: 902, count: 12 });
    expect(await push(db, chain[0])).toBe(201);
    const first = await watch(db);
    for (const f of chain.slice(1, 4)) expect(await push(db, f)).toBe(201);
    const seen = await first.commits(3);
    await first.close();
    for (const f of chain.slice(4, 9)) expect(await push(db, f)).toBe(201);

    const resumed = await watch(db, { 'last-event-id': seen[2].id });
    const missed = await resumed.commits(5);
    expect(missed.map((e) => e.id)).toEqual([5, 6, 7, 8, 9].map(hex));
    for (const [i, e] of missed.entries()) expect(e.data).toMatchObject(expected(chain[4 + i], chain[3 + i]));
    // Live events follow the backlog without a gap or a repeat.
    expect(await push(db, chain[9])).toBe(201);
    expect((await resumed.commits(1))[0].data).toMatchObject(expected(chain[9], chain[8]));
    await resumed.close();

    // The header wins over the URL's since (an EventSource reconnecting keeps its URL).
    const byQuery = await watch(db, { 'last-event-id': hex(8) }, `?since=${hex(2)}`);
    expect((await byQuery.commits(2)).map((e) => e.id)).toEqual([hex(9), hex(10)]);
    await byQuery.close();
  });

  it('sums up what it no longer holds one by one: the pages changed since, or all', async () => {
    const db = 'watch-summary';
    const chain = await buildChain({ seed: 903, count: 6 });
    for (const f of chain) expect(await push(db, f)).toBe(201);
    // The DO was evicted (its recent events are memory only).
    await runInDurableObject(env.DATABASE.getByName(db), (instance: DatabaseDO) => {
      (instance.watchers as unknown as { recent: { clear(): void } }).recent.clear();
    });
    const changed = new Set(chain.slice(3).flatMap((f) => f.pgnos));
    const shrank = chain.slice(3).some((f, i) => f.commit < chain[2 + i].commit);
    const w = await watch(db, { 'last-event-id': hex(3) });
    const [summary] = await w.commits(1);
    expect(summary.id).toBe(hex(6));
    expect(summary.data.since).toBe(hex(3));
    expect(summary.data.pos.txid).toBe(hex(6));
    if (shrank) expect(summary.data.all).toBe(true);
    else expect(summary.data.pgnos).toEqual([...changed].filter((p) => p <= chain[5].commit).sort((a, b) => a - b));
    await w.close();

    // From before the first commit, or from a TXID this database never reached: everything.
    for (const since of [hex(0), hex(99)]) {
      const all = await watch(db, {}, `?since=${since}`);
      const [e] = await all.commits(1);
      expect(e.data).toMatchObject({ since, all: true, pos: { txid: hex(6) } });
      expect(e.data.pgnos).toBeUndefined();
      await all.close();
    }
  });

  it('asks for a read token on the database, and refuses bad input with a 4xx', async () => {
    const db = 'watch-auth';
    expect(await push(db, (await buildChain({ seed: 904, count: 1 }))[0])).toBe(201);
    const status = async (headers: Record<string, string>, path = `/v1/databases/${db}/watch`) => {
      const res = await exports.default.fetch(`${BASE}${path}`, { headers });
      const body = (await res.json()) as { error: { code: string } };
      return `${res.status} ${body.error.code}`;
    };
    expect(await status({})).toBe('401 UNAUTHORIZED');
    expect(await status({ authorization: 'Bearer nope' })).toBe('401 UNAUTHORIZED');
    expect(await status({ ...AUTH, 'last-event-id': 'xyz' })).toBe('400 BAD_REQUEST');
    expect(await status(AUTH, `/v1/databases/${db}/watch?since=-1`)).toBe('400 BAD_REQUEST');
    expect(await status(AUTH, '/v1/databases/watch-nobody/watch')).toBe('404 NOT_FOUND');
    expect(await status(AUTH, '/v1/databases/Bad%20Name/watch')).toBe('400 INVALID_NAME');
    expect(await watchers(db)).toBe(0);
  });

  it('caps watchers per database with 429 TOO_MANY_WATCHERS, and releases a closed watcher', async () => {
    const db = 'watch-limit';
    const chain = await buildChain({ seed: 905, count: 3 });
    expect(await push(db, chain[0])).toBe(201);
    await runInDurableObject(env.DATABASE.getByName(db), (instance: DatabaseDO) => {
      instance.watchers.limit = 2;
    });
    const a = await watch(db);
    const b = await watch(db);
    expect(await watchers(db)).toBe(2);
    const refused = await exports.default.fetch(`${BASE}/v1/databases/${db}/watch`, { headers: AUTH });
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({ error: { code: 'TOO_MANY_WATCHERS', details: { limit: 2 } } });

    await a.close();
    // The close reaches the DO as a message: wait for it (each stats call is a round trip), never for a time.
    let left = await watchers(db);
    for (let i = 0; i < 200 && left !== 1; i++) left = await watchers(db);
    expect(left).toBe(1);
    const c = await watch(db);
    expect(await push(db, chain[1])).toBe(201);
    expect((await b.commits(1))[0].id).toBe(hex(2));
    expect((await c.commits(1))[0].id).toBe(hex(2));
    await b.close();
    await c.close();
  });

  it('tells watchers when the database is deleted, then ends the stream', async () => {
    const db = 'watch-deleted';
    expect(await push(db, (await buildChain({ seed: 906, count: 1 }))[0])).toBe(201);
    const w = await watch(db);
    const del = await exports.default.fetch(`${BASE}/v1/databases/${db}`, { method: 'DELETE', headers: AUTH });
    expect(del.status).toBe(200);
    const e = await w.next();
    expect(e?.type).toBe('deleted');
    expect(await w.next()).toBeUndefined();
    expect(w.ended).toBe(true);
  });
});
