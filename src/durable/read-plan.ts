// The DO's side of reads: resolve a point (head, TXID, time) to a plan of LTX files, with page hints at the head.

import { formatTXID, parseTXID } from '../ltx/index.ts';
import type { PlanFileRef, ReadPlan } from '../replication/plan.ts';
import { type PlanFile, oldestRestorable, planRestore, txidAtTime } from '../replication/restore-plan.ts';
import type { Catalog, CatalogFile, Position } from './catalog.ts';
import { type PosJSON, type RpcResult, err, ok, posJSON } from './rpc-result.ts';

/** What a reader asks for. No txid and no at = the head. */
export interface PlanRequest {
  /** 16 hex digits. */
  txid?: string;
  /** ms since the epoch: the state as of then. */
  at?: number;
  /** Pages the reader wants; at the head the answer says which plan file holds each. */
  pgnos?: number[];
}

export interface ChangesAnswer {
  pos: PosJSON;
  all: boolean;
  /** Changed pages, when the DO could list them (at the head). */
  pgnos?: number[];
  /** Otherwise the level-0 files after `since` whose page indexes hold the changed pages. */
  files?: PlanFileRef[];
}

/** The plan as it is: DO RPC carries bigint and Map, so nothing is turned into JSON and parsed back. */
export interface PlanAnswer {
  plan: ReadPlan;
  /** The head when the plan was made. */
  head: PosJSON;
  /** pgno → index into plan.files, for pages whose newest version is known (head reads only). */
  hints: Map<number, number>;
}

/** Builds plans from the catalog; caches them per target TXID until the catalog changes. */
export class ReadPlanner {
  private readonly catalog: Catalog;
  private dbName = '';
  private cache = new Map<bigint, ReadPlan>();

  constructor(catalog: Catalog) {
    this.catalog = catalog;
  }

  /** The database's name (a DO learns it from its callers). */
  setName(name: string): void {
    if (name !== this.dbName) this.cache.clear();
    this.dbName = name;
  }

  private name(): string {
    return this.dbName;
  }

  /** Forget cached plans: the catalog changed (commit, compaction, retention, delete). */
  invalidate(): void {
    this.cache.clear();
  }

  plan(req: PlanRequest): RpcResult<PlanAnswer> {
    const pos = this.catalog.position();
    if (!pos) return err('NOT_FOUND', `database ${this.name()} does not exist`);
    const target = this.resolveTarget(pos, req);
    if (!target.ok) return target;
    const made = this.planAt(pos, target.value);
    if (!made.ok) return made;
    const hints = target.value === pos.txid && req.pgnos ? this.hints(made.value, req.pgnos) : new Map<number, number>();
    return ok({ plan: made.value, head: posJSON(pos.txid, pos.checksum), hints });
  }

  resolveTarget(pos: Position, req: PlanRequest): RpcResult<bigint> {
    if (req.txid !== undefined) {
      const txid = parseTXID(req.txid.padStart(16, '0'));
      if (txid === undefined || txid === 0n) return err('BAD_REQUEST', `invalid txid ${JSON.stringify(req.txid)}`);
      if (txid > pos.txid) {
        return err('NOT_YET_AVAILABLE', `TXID ${formatTXID(txid)} is beyond the head`, { pos: posJSON(pos.txid, pos.checksum) });
      }
      return ok(txid);
    }
    if (req.at !== undefined) {
      const files = this.planFiles(this.catalog.filesUpTo(pos.txid));
      const txid = txidAtTime(files, req.at);
      if (txid === undefined) {
        const oldest = oldestRestorable(files);
        return err('TXID_NOT_AVAILABLE', `no state as old as ${new Date(req.at).toISOString()} is retained`, {
          ...(oldest !== undefined ? { oldest: formatTXID(oldest) } : {}),
        });
      }
      return ok(txid);
    }
    return ok(pos.txid);
  }

  private planAt(pos: Position, target: bigint): RpcResult<ReadPlan> {
    const cached = this.cache.get(target);
    if (cached) return ok(cached);
    const catalogFiles = this.catalog.filesUpTo(target);
    const result = planRestore(this.planFiles(catalogFiles), target);
    if (!result.ok) {
      const details: Record<string, string> = { reason: result.reason };
      if (result.oldest !== undefined) details.oldest = formatTXID(result.oldest);
      if (result.nearest !== undefined) details.nearest = formatTXID(result.nearest);
      return err('TXID_NOT_AVAILABLE', `TXID ${formatTXID(target)} cannot be restored (${result.reason})`, details);
    }
    const byKey = new Map<string, CatalogFile>(catalogFiles.map((f) => [`${f.level}/${f.minTXID}/${f.maxTXID}`, f]));
    const files = result.files.map((f) => byKey.get(`${f.level}/${f.minTXID}/${f.maxTXID}`)!);
    const last = files[files.length - 1];
    const plan: ReadPlan = {
      db: this.name(),
      incarnation: pos.incarnation,
      generation: this.catalog.generation(),
      txid: target,
      pageSize: pos.pageSize,
      commit: last.commit,
      checksum: last.postApplyChecksum,
      files: files.map(planFileRef),
    };
    if (this.cache.size >= 64) this.cache.clear();
    this.cache.set(target, plan);
    return ok(plan);
  }

  /**
   * Pages changed after `since` up to the point asked (DESIGN §4 GET …/changes). At the head the
   * page table answers directly; before it, the answer lists the level-0 files whose page indexes
   * the reader unions. `all` when the range is no longer held file by file or the database shrank.
   */
  changes(since: bigint, req: PlanRequest): RpcResult<ChangesAnswer> {
    const pos = this.catalog.position();
    if (!pos) return err('NOT_FOUND', `database ${this.name()} does not exist`);
    const target = this.resolveTarget(pos, req);
    if (!target.ok) return target;
    const to = target.value;
    if (since > to) return err('BAD_REQUEST', `since ${formatTXID(since)} is after the point asked (${formatTXID(to)})`);
    const at = to === pos.txid ? { checksum: pos.checksum, commit: pos.commit } : this.catalogPoint(to);
    if (!at) return err('TXID_NOT_AVAILABLE', `TXID ${formatTXID(to)} is not held as a file boundary`);
    const answer = (extra: Omit<ChangesAnswer, 'pos'>): RpcResult<ChangesAnswer> => ok({ pos: posJSON(to, at.checksum), ...extra });
    if (since === to) return answer({ pgnos: [], all: false });
    const sinceCommit = since === 0n ? undefined : this.catalogPoint(since)?.commit;
    const chain = this.catalog.files(0, since, 100_000).filter((f) => f.maxTXID <= to);
    let expect = since + 1n;
    let contiguous = sinceCommit !== undefined;
    for (const f of chain) {
      if (f.minTXID !== expect) contiguous = false;
      if (sinceCommit !== undefined && f.commit < sinceCommit) contiguous = false; // a shrink drops pages
      expect = f.maxTXID + 1n;
    }
    if (!contiguous || expect !== to + 1n) return answer({ all: true });
    if (to === pos.txid) return answer({ all: false, pgnos: this.catalog.pagesWrittenAfter(since).filter((p) => p <= at.commit) });
    return answer({
      all: false,
      files: chain.map((f) => ({ ...planFileRef(f), level: 0 })),
    });
  }

  /** The checksum and commit right after a file that ends at `txid`, if one does. */
  private catalogPoint(txid: bigint): { checksum: bigint; commit: number } | undefined {
    const f = this.catalog.fileEndingAt(txid);
    return f ? { checksum: f.postApplyChecksum, commit: f.commit } : undefined;
  }

  /** Which plan file holds the newest version of each page: the newest file covering its last writer. */
  private hints(plan: ReadPlan, pgnos: number[]): Map<number, number> {
    const writers = this.catalog.pageWriters(pgnos.slice(0, 4096));
    const out = new Map<number, number>();
    for (const [pgno, writer] of writers) {
      for (let i = plan.files.length - 1; i >= 0; i--) {
        const f = plan.files[i];
        if (f.minTXID <= writer && writer <= f.maxTXID) {
          out.set(pgno, i);
          break;
        }
      }
    }
    return out;
  }

  private planFiles(files: CatalogFile[]): PlanFile[] {
    return files.map((f) => ({ level: f.level, minTXID: f.minTXID, maxTXID: f.maxTXID, size: f.size, timestamp: f.timestamp }));
  }
}

/** A catalogued file as a plan names it: where it is, its Commit, and its index length when known. */
function planFileRef(f: CatalogFile): PlanFileRef {
  const ref: PlanFileRef = { level: f.level, minTXID: f.minTXID, maxTXID: f.maxTXID, size: f.size, commit: f.commit };
  if (f.indexBytes !== undefined) ref.indexBytes = f.indexBytes;
  return ref;
}
