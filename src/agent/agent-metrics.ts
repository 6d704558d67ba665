// `replicate --metrics-addr`: the agent's Prometheus metrics (prom-client), labelled by database, and the HTTP server that exposes them at /metrics.

import { stat } from 'node:fs/promises';
import { type Server, createServer } from 'node:http';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { LoopEvent } from './follow-loop.ts';
import type { AgentEvent, SyncResult } from './replicator-options.ts';

/** The metrics of every database one agent process follows. */
export class AgentMetrics {
  readonly registry = new Registry();
  private readonly lastSynced = new Map<string, number>();
  private readonly position = this.gauge('ltx_edge_agent_position_txid', 'TXID of the last position the server acknowledged.');
  private readonly pushes = this.counter('ltx_edge_agent_push_total', 'LTX files pushed and acknowledged.');
  private readonly pushBytes = this.counter('ltx_edge_agent_push_bytes_total', 'Bytes of LTX pushed and acknowledged.');
  private readonly errors = this.counter('ltx_edge_agent_push_errors_total', 'Syncs that failed (retried), and refusals.');
  private readonly walBytes = this.gauge('ltx_edge_agent_wal_bytes', "Size of the database's -wal file after the last sync.");
  private readonly checkpoints = this.counter('ltx_edge_agent_checkpoint_total', 'Checkpoints the agent ran (PASSIVE and TRUNCATE).');
  constructor(dbs: readonly string[], now: () => number = Date.now) {
    collectDefaultMetrics({ register: this.registry, prefix: 'ltx_edge_agent_' });
    const lastSynced = this.lastSynced;
    new Gauge({
      name: 'ltx_edge_agent_lag_seconds',
      help: 'Seconds since the last moment everything committed to the database was on the server (the start of the last successful sync).',
      labelNames: ['db'],
      registers: [this.registry],
      collect() {
        for (const [db, at] of lastSynced) this.set({ db }, Math.max(0, (now() - at) / 1000));
      },
    });
    // Every series exists from the start (at 0), so a dashboard sees a database before its first push.
    const started = now();
    for (const db of dbs) {
      for (const m of [this.position, this.walBytes]) m.set({ db }, 0);
      for (const m of [this.pushes, this.pushBytes, this.errors, this.checkpoints]) m.inc({ db }, 0);
      lastSynced.set(db, started);
    }
  }

  /** A Replicator or loop event of database `db`. */
  event(db: string, e: AgentEvent | LoopEvent): void {
    switch (e.event) {
      case 'push':
        this.pushes.inc({ db });
        this.pushBytes.inc({ db }, e.bytes);
        this.position.set({ db }, Number(e.txid));
        break;
      case 'start':
        this.position.set({ db }, Number(e.pos.txid));
        break;
      case 'checkpoint':
        this.checkpoints.inc({ db });
        break;
      case 'error':
      case 'fatal':
        this.errors.inc({ db });
        break;
    }
  }

  /** A successful sync of `db`, begun at `startedAt`; `file` is the database (its -wal is measured). */
  async synced(db: string, file: string, r: SyncResult, startedAt: number): Promise<void> {
    this.lastSynced.set(db, startedAt);
    this.position.set({ db }, Number(r.pos.txid));
    const wal = await stat(`${file}-wal`).catch(() => undefined);
    this.walBytes.set({ db }, wal?.size ?? 0);
  }

  private gauge(name: string, help: string): Gauge<'db'> {
    return new Gauge({ name, help, labelNames: ['db'], registers: [this.registry] });
  }

  private counter(name: string, help: string): Counter<'db'> {
    return new Counter({ name, help, labelNames: ['db'], registers: [this.registry] });
  }
}

/**
 * Serves `metrics` as Prometheus text at `http://<addr>/metrics` (`host:port`, `:port` for every
 * interface); 404 elsewhere. Resolves once listening.
 */
export async function serveMetrics(metrics: AgentMetrics, addr: { host: string | undefined; port: number }): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res
        .writeHead(path === '/metrics' ? 405 : 404, { 'content-type': 'text/plain; charset=utf-8' })
        .end(path === '/metrics' ? 'GET only\n' : 'not found: try /metrics\n');
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(req.method === 'HEAD' ? undefined : text),
      (e: Error) => res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`${e.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(addr.port, addr.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.unref();
  return server;
}

/** `host:port`, `[v6]:port` or `:port` → its parts; null when it is none of these. */
export function parseListenAddress(text: string): { host: string | undefined; port: number } | null {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]*)):(\d{1,5})$/.exec(text.trim());
  if (!m) return null;
  const port = Number(m[3]);
  if (port > 65_535) return null;
  const host = m[1] ?? m[2];
  return { host: host === '' ? undefined : host, port };
}
