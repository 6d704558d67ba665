// The agent's Prometheus metrics: every series per database from the start, counters and gauges moved by events, lag from the last sync, and the listen-address grammar.

import { describe, expect, it } from 'vitest';
import { AgentMetrics, parseListenAddress } from '../../../src/agent/agent-metrics.ts';

/** `name{labels} value` lines of the exposition → a map. */
async function scrape(m: AgentMetrics): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const line of (await m.registry.metrics()).split('\n')) {
    const hit =
      /^(ltx_edge_agent_(?:position_txid|push_total|push_bytes_total|push_errors_total|lag_seconds|wal_bytes|checkpoint_total)\{[^}]*\}) (\S+)$/.exec(
        line,
      );
    if (hit) out.set(hit[1], Number(hit[2]));
  }
  return out;
}

describe('AgentMetrics', () => {
  it('has every series of every database at 0 before anything happens', async () => {
    let now = 1_000_000;
    const m = new AgentMetrics(['a', 'b'], () => now);
    const s = await scrape(m);
    for (const db of ['a', 'b']) {
      for (const name of [
        'position_txid',
        'push_total',
        'push_bytes_total',
        'push_errors_total',
        'lag_seconds',
        'wal_bytes',
        'checkpoint_total',
      ]) {
        expect(s.get(`ltx_edge_agent_${name}{db="${db}"}`), `${name} ${db}`).toBe(0);
      }
    }
    now += 5_000;
    expect((await scrape(m)).get('ltx_edge_agent_lag_seconds{db="a"}')).toBe(5);
  });

  it("events move their database's series only", async () => {
    let now = 0;
    const m = new AgentMetrics(['a', 'b'], () => now);
    m.event('a', { event: 'push', reason: 'wal', txid: 7n, commits: 3, pages: 2, bytes: 1234, ms: 5, status: 201 });
    m.event('a', { event: 'push', reason: 'wal', txid: 8n, commits: 1, pages: 1, bytes: 100, ms: 5, status: 201 });
    m.event('a', { event: 'checkpoint', mode: 'PASSIVE', walFrames: 10, backfilled: 10, busy: false });
    m.event('b', { event: 'error', error: 'down', retryInMs: 1000 });
    m.event('b', { event: 'fatal', code: 'DIVERGED', error: 'x' });
    now = 3_000;
    await m.synced('a', '/nonexistent/app.db', { pushes: 2, commits: 4, pos: { txid: 8n, checksum: 1n } }, 2_000);
    const s = await scrape(m);
    expect(s.get('ltx_edge_agent_push_total{db="a"}')).toBe(2);
    expect(s.get('ltx_edge_agent_push_bytes_total{db="a"}')).toBe(1334);
    expect(s.get('ltx_edge_agent_position_txid{db="a"}')).toBe(8);
    expect(s.get('ltx_edge_agent_checkpoint_total{db="a"}')).toBe(1);
    expect(s.get('ltx_edge_agent_lag_seconds{db="a"}')).toBe(1);
    expect(s.get('ltx_edge_agent_wal_bytes{db="a"}')).toBe(0);
    expect(s.get('ltx_edge_agent_push_errors_total{db="a"}')).toBe(0);
    expect(s.get('ltx_edge_agent_push_errors_total{db="b"}')).toBe(2);
    expect(s.get('ltx_edge_agent_push_total{db="b"}')).toBe(0);
    expect(s.get('ltx_edge_agent_lag_seconds{db="b"}')).toBe(3);
  });
});

describe('parseListenAddress', () => {
  it.each([
    [':9090', { host: undefined, port: 9090 }],
    ['127.0.0.1:0', { host: '127.0.0.1', port: 0 }],
    ['localhost:8080', { host: 'localhost', port: 8080 }],
    ['[::1]:9090', { host: '::1', port: 9090 }],
  ])('%s', (text, want) => expect(parseListenAddress(text)).toEqual(want));
  it.each(['9090', 'host:', 'host:99999', 'a b:1', '[::1]', 'http://x:1'])('refuses %s', (text) =>
    expect(parseListenAddress(text)).toBeNull(),
  );
});
