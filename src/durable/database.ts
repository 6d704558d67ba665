// DatabaseDO: one SQLite-backed Durable Object per database, the authority for its position and catalog.
import { DurableObject } from 'cloudflare:workers';
import type { Env } from '../env.ts';

/** Thin RPC shell over catalog, ingest and compaction (DESIGN §1); filled in by later work. */
export class DatabaseDO extends DurableObject<Env> {
  /** Liveness check over RPC. */
  async ping(): Promise<'pong'> {
    return 'pong';
  }
}
