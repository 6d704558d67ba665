// The page memory the running queries of one isolate hold: one ceiling for all, and a share no one database may pass while others want memory.

/**
 * Default most page bytes all running queries of an isolate may hold. A Worker has 128 MB: the wasm
 * heap may reach 64 MiB (engine.ts), the shared caches 16 + 8 MiB, which leaves about 32 MiB for pages.
 */
export const DEFAULT_ISOLATE_QUERY_PAGE_BYTES = 32 * 1024 * 1024;
/**
 * Default share of that memory one database may hold while another database wants some: half, so
 * queries on every other database always find at least the other half, and one query alone still
 * gets its whole per-query budget (DEFAULT_MAX_QUERY_PAGE_BYTES, 16 MiB, half the default ceiling).
 */
export const DEFAULT_DATABASE_SHARE = 0.5;
/**
 * How long (ms) a database refused page memory counts as wanting it: its client retries after
 * BUSY_RETRY_AFTER_SECONDS (1 s), so twice that covers the retry. Meanwhile no other database may
 * grow past its share, and the memory the refused one waits for is freed as their queries end.
 */
export const WANTING_MS = 2_000;
/** Most databases remembered as wanting memory (oldest forgotten first): bounds the map under a flood of names. */
const MAX_WANTING = 1024;

/** Why page memory was refused: the isolate's ceiling, or the database's share of it. */
export type PageMemoryLimit = 'isolate_page_bytes' | 'database_page_bytes';

export interface PageMemoryOptions {
  /** Share of `maxBytes` one database may hold while others want memory (0 < share ≤ 1); default DEFAULT_DATABASE_SHARE. */
  databaseShare?: number;
  /** The clock (ms), for tests. */
  now?: () => number;
}

/**
 * Page bytes held by the running queries of one isolate, against one ceiling, and by database. A
 * database may take past its share (`shareBytes`) only while no other database holds page memory or
 * was refused some within WANTING_MS: memory is not left idle, but one tenant's queries cannot keep
 * the rest out — as soon as another database asks, the first one's further takes are refused until it
 * is back under its share.
 */
export class PageMemory {
  readonly maxBytes: number;
  /** What one database may hold while others want memory. */
  readonly shareBytes: number;
  private held = 0;
  private readonly byDatabase = new Map<string, number>();
  /** Databases refused memory lately, and when (insertion order = oldest first). */
  private readonly wanting = new Map<string, number>();
  private readonly now: () => number;

  constructor(maxBytes = DEFAULT_ISOLATE_QUERY_PAGE_BYTES, opts: PageMemoryOptions = {}) {
    const share = opts.databaseShare ?? DEFAULT_DATABASE_SHARE;
    if (!(share > 0 && share <= 1)) throw new RangeError(`databaseShare must be in (0, 1], not ${share}`);
    this.maxBytes = maxBytes;
    this.shareBytes = Math.floor(maxBytes * share);
    this.now = opts.now ?? Date.now;
  }

  get used(): number {
    return this.held;
  }

  /** Bytes `database` holds now. */
  usedBy(database: string): number {
    return this.byDatabase.get(database) ?? 0;
  }

  /**
   * Reserves `n` bytes for `database` (none: counted against the ceiling only); undefined when
   * reserved, else the limit that refused them (nothing reserved).
   */
  take(n: number, database?: string): PageMemoryLimit | undefined {
    let refused: PageMemoryLimit | undefined;
    if (this.held + n > this.maxBytes) refused = 'isolate_page_bytes';
    else if (database !== undefined && this.usedBy(database) + n > this.shareBytes && this.othersWant(database))
      refused = 'database_page_bytes';
    if (refused !== undefined) {
      if (database !== undefined) this.noteWanting(database);
      return refused;
    }
    this.held += n;
    if (database !== undefined) this.byDatabase.set(database, this.usedBy(database) + n);
    return undefined;
  }

  /** Reserves `n` bytes; false (nothing reserved) when that would pass the ceiling or the database's share. */
  tryTake(n: number, database?: string): boolean {
    return this.take(n, database) === undefined;
  }

  /** Gives back `n` bytes taken for `database` (the same key as `take`). */
  release(n: number, database?: string): void {
    this.held = Math.max(0, this.held - n);
    if (database === undefined) return;
    const left = this.usedBy(database) - n;
    if (left > 0) this.byDatabase.set(database, left);
    else this.byDatabase.delete(database);
  }

  /** Another database holds page memory now, or was refused some lately. */
  private othersWant(database: string): boolean {
    for (const other of this.byDatabase.keys()) if (other !== database) return true;
    const since = this.now() - WANTING_MS;
    for (const [other, at] of this.wanting) {
      if (at < since) this.wanting.delete(other);
      else if (other !== database) return true;
    }
    return false;
  }

  private noteWanting(database: string): void {
    this.wanting.delete(database);
    this.wanting.set(database, this.now());
    if (this.wanting.size > MAX_WANTING) this.wanting.delete(this.wanting.keys().next().value!);
  }
}
