// Test-only LiteFS node with LiteFS's backup client: local v1 LTX files per TXID, the position diff, compaction into one push, 409 → snapshot restore.
//
// Mirrors superfly/litefs store.go (streamBackup, streamBackupDB, streamBackupDBSnapshot,
// restoreDBFromBackup) and lfsc/backup_client.go (PosMap, WriteTx, FetchSnapshot, readResponseError):
// the same decisions in the same order, over the same HTTP calls, with the local database kept as
// plain pages so the test has an oracle independent of the server.

import { databaseChecksum } from '../../src/ltx/checksum.ts';
import { lockPgno } from '../../src/ltx/constants.ts';
import { LTXEncoder } from '../../src/ltx/encoder.ts';
import { type Header, makeHeader } from '../../src/ltx/header.ts';
import { V1Decoder, decodeV1 } from '../../src/ltx/v1.ts';
import { V1Encoder } from '../../src/ltx/v1-encoder.ts';

/** LiteFS's MaxBackupLTXFileN: at most this many local files are compacted into one push. */
export const MAX_BACKUP_LTX_FILES = 256;

export interface Pos {
  txid: bigint;
  checksum: bigint;
}

const ZERO: Pos = { txid: 0n, checksum: 0n };
const hex = (v: bigint): string => v.toString(16).padStart(16, '0');

/** What `readResponseError` turns an EPOSMISMATCH answer into. */
export class PosMismatchError extends Error {
  readonly pos: Pos;
  constructor(pos: Pos) {
    super(`ltx position mismatch (${hex(pos.txid)}/${hex(pos.checksum)})`);
    this.pos = pos;
  }
}

/** Any other non-2xx answer: status and the decoded LiteFS error body. */
export class BackupClientError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(`backup client error (${status}): ${message}`);
    this.status = status;
    this.code = code;
  }
}

/** One thing the backup loop did, for assertions. */
export interface BackupEvent {
  db: string;
  kind: 'snapshot' | 'push' | 'restore' | 'in-sync' | 'skip';
  minTXID?: bigint;
  maxTXID?: bigint;
  status?: number;
  hwm?: bigint;
  /** Why a restore happened (LiteFS's log reason). */
  reason?: 'no-local' | 'remote-ahead' | 'chksum-mismatch' | 'ltx-not-found' | 'out-of-sync';
}

export interface LiteFSClientOptions {
  /** Sends a request (in Workers tests: `exports.default.fetch`). */
  fetch: (url: string, init?: RequestInit) => Promise<Response>;
  /** The LiteFS Cloud URL. Like lfsc.NewBackupClient, only its scheme and host are used: a path is dropped. */
  url: string;
  /** LITEFS_CLOUD_TOKEN: sent verbatim as Authorization. */
  token: string;
  /** `?cluster=` on every request (LiteFS Cloud took it from the token). */
  cluster?: string;
  /** data.compress (LiteFS default true): local files and pushes get v1 header flag 0x1. */
  compress?: boolean;
  /** Push format: 'v1' as LiteFS does, or 'current' (v3 block files) to exercise that path. */
  format?: 'v1' | 'current';
  /** Bytes per body chunk of a push (streamed, no Content-Length). */
  chunkBytes?: number;
}

/** A database on this node: pages, position and the LTX file of every TXID since the last restore. */
class LocalDB {
  pageSize: number;
  commit = 0;
  pos: Pos = ZERO;
  hwm = 0n;
  readonly pages = new Map<number, Uint8Array>();
  readonly ltx = new Map<bigint, Uint8Array>();

  constructor(pageSize: number) {
    this.pageSize = pageSize;
  }

  page(pgno: number): Uint8Array {
    return this.pages.get(pgno) ?? new Uint8Array(this.pageSize);
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.commit * this.pageSize);
    for (const [pgno, data] of this.pages) if (pgno !== lockPgno(this.pageSize)) out.set(data, (pgno - 1) * this.pageSize);
    return out;
  }
}

export class LiteFSClient {
  readonly opts: Required<Omit<LiteFSClientOptions, 'cluster'>> & { cluster?: string };
  readonly dbs = new Map<string, LocalDB>();
  readonly events: BackupEvent[] = [];
  /** The cached position map (streamBackup's `posMap`); undefined = fetch on the next pass. */
  posMap: Map<string, Pos> | undefined;
  private clock = 1_700_000_000_000;

  constructor(opts: LiteFSClientOptions) {
    this.opts = { compress: true, format: 'v1', chunkBytes: 16 * 1024, ...opts };
  }

  /** A local write transaction: the pages it changed, the size afterwards (default: grown to fit). */
  write(name: string, changes: { pgno: number; data: Uint8Array }[], opts: { commit?: number; pageSize?: number } = {}): Pos {
    let db = this.dbs.get(name);
    if (!db) this.dbs.set(name, (db = new LocalDB(opts.pageSize ?? 4096)));
    const prev = db.pos;
    const txid = prev.txid + 1n;
    const highest = changes.reduce((m, p) => Math.max(m, p.pgno), 0);
    db.commit = opts.commit ?? Math.max(db.commit, highest);
    for (const pgno of [...db.pages.keys()]) if (pgno > db.commit) db.pages.delete(pgno);
    for (const p of changes) if (p.pgno <= db.commit) db.pages.set(p.pgno, p.data.slice());
    const post = databaseChecksum(db.pageSize, db.commit, (p) => db.page(p));
    const lock = lockPgno(db.pageSize);
    // TXID 1 is a snapshot: every page. Later files: the changed pages, ascending.
    const pgnos =
      txid === 1n ? Array.from({ length: db.commit }, (_, i) => i + 1) : [...new Set(changes.map((p) => p.pgno))].sort((a, b) => a - b);
    const header = makeHeader({
      flags: this.opts.compress ? 1 : 0,
      pageSize: db.pageSize,
      commit: db.commit,
      minTXID: txid,
      maxTXID: txid,
      timestamp: this.clock++,
      preApplyChecksum: txid === 1n ? 0n : prev.checksum,
      nodeID: 1n,
    });
    const enc = new V1Encoder(header);
    const parts = [enc.start()];
    for (const p of pgnos) if (p <= db.commit && p !== lock) parts.push(enc.encodePage(p, db.page(p)));
    parts.push(enc.finish(txid === 1n ? undefined : post));
    db.ltx.set(txid, concat(parts));
    db.pos = { txid, checksum: post };
    return db.pos;
  }

  /** The local database file. */
  bytes(name: string): Uint8Array {
    return this.dbs.get(name)!.bytes();
  }

  /** Forgets the position map, as the BackupFullSyncInterval ticker does. */
  resetPosMap(): void {
    this.posMap = undefined;
  }

  /**
   * One pass of the backup loop over every database (streamBackup): fetch the position map when
   * there is none, then streamBackupDB each database, restoring from the snapshot on a position
   * mismatch. Any other error drops the map (LiteFS restarts the loop) and is thrown.
   */
  async sync(): Promise<void> {
    try {
      if (this.posMap === undefined) this.posMap = await this.fetchPosMap();
      const names = new Set([...this.posMap.keys(), ...this.dbs.keys()]);
      for (const name of [...names].sort()) {
        let newPos: Pos;
        try {
          newPos = await this.streamDB(name, this.posMap.get(name) ?? ZERO);
        } catch (e) {
          if (!(e instanceof PosMismatchError)) throw e;
          newPos = await this.restore(name, (e as PosMismatchError & { reason?: BackupEvent['reason'] }).reason ?? 'out-of-sync');
        }
        if (newPos.txid === 0n) this.posMap.delete(name);
        else this.posMap.set(name, newPos);
      }
    } catch (e) {
      this.posMap = undefined;
      throw e;
    }
  }

  private async streamDB(name: string, remote: Pos): Promise<Pos> {
    const db = this.dbs.get(name);
    if (!db) throw mismatch(remote, 'no-local');
    const local = db.pos;
    if (local.txid === 0n) return local;
    if (remote.txid === 0n) return this.pushSnapshot(name, db);
    if (remote.txid > local.txid) throw mismatch(remote, 'remote-ahead');
    if (remote.txid === local.txid) {
      if (remote.checksum !== local.checksum) throw mismatch(remote, 'chksum-mismatch');
      this.events.push({ db: name, kind: 'in-sync' });
      return local;
    }
    const files: Uint8Array[] = [];
    for (let txid = remote.txid + 1n, n = 0; txid <= local.txid && n < MAX_BACKUP_LTX_FILES; txid++, n++) {
      const f = db.ltx.get(txid);
      if (!f) throw mismatch(remote, 'ltx-not-found');
      files.push(f);
    }
    const { bytes, header, post } = this.compact(files);
    let res: { status: number; hwm: bigint };
    try {
      res = await this.writeTx(name, bytes);
    } catch (e) {
      if (e instanceof PosMismatchError) (e as PosMismatchError & { reason?: string }).reason = 'out-of-sync';
      throw e;
    }
    db.hwm = res.hwm;
    this.events.push({ db: name, kind: 'push', minTXID: header.minTXID, maxTXID: header.maxTXID, status: res.status, hwm: res.hwm });
    return { txid: header.maxTXID, checksum: post };
  }

  /** streamBackupDBSnapshot: the whole database as one snapshot file (WriteSnapshotTo). */
  private async pushSnapshot(name: string, db: LocalDB): Promise<Pos> {
    const header = makeHeader({
      flags: this.opts.compress ? 1 : 0,
      pageSize: db.pageSize,
      commit: db.commit,
      minTXID: 1n,
      maxTXID: db.pos.txid,
      timestamp: this.clock++,
      nodeID: 1n,
    });
    const lock = lockPgno(db.pageSize);
    const pages = [];
    for (let p = 1; p <= db.commit; p++) if (p !== lock) pages.push({ pgno: p, data: db.page(p) });
    const bytes = this.encode(header, pages, undefined);
    const res = await this.writeTx(name, bytes);
    db.hwm = res.hwm;
    this.events.push({ db: name, kind: 'snapshot', minTXID: 1n, maxTXID: db.pos.txid, status: res.status, hwm: res.hwm });
    return db.pos;
  }

  /** ltx.Compactor over the local files: pages newest first, Min/PreApply of the first, Max/Commit/Timestamp of the last. */
  private compact(files: Uint8Array[]): { bytes: Uint8Array; header: Header; post: bigint } {
    const decoded = files.map((f) => decodeV1(f));
    const first = decoded[0].header;
    const last = decoded[decoded.length - 1];
    const pages = new Map<number, Uint8Array>();
    for (const d of decoded) for (const p of d.pages) pages.set(p.pgno, p.data);
    const header = makeHeader({
      flags: this.opts.compress ? 1 : 0,
      pageSize: first.pageSize,
      commit: last.header.commit,
      minTXID: first.minTXID,
      maxTXID: last.header.maxTXID,
      timestamp: last.header.timestamp,
      preApplyChecksum: first.preApplyChecksum,
    });
    const post = last.trailer.postApplyChecksum;
    const sorted = [...pages]
      .filter(([p]) => p <= header.commit)
      .sort((a, b) => a[0] - b[0])
      .map(([pgno, data]) => ({ pgno, data }));
    return { bytes: this.encode(header, sorted, header.minTXID === 1n ? undefined : post), header, post };
  }

  private encode(header: Header, pages: { pgno: number; data: Uint8Array }[], post: bigint | undefined): Uint8Array {
    if (this.opts.format === 'current') {
      const enc = new LTXEncoder({ ...header, flags: 0 });
      return concat([enc.start(), ...pages.map((p) => enc.encodePage(p.pgno, p.data)), enc.finish(post)]);
    }
    const enc = new V1Encoder(header);
    return concat([enc.start(), ...pages.map((p) => enc.encodePage(p.pgno, p.data)), enc.finish(post)]);
  }

  /** restoreDBFromBackup: fetch the snapshot, replace the local database with it. */
  private async restore(name: string, reason: BackupEvent['reason']): Promise<Pos> {
    const res = await this.request('GET', '/db/snapshot', { db: name });
    const bytes = new Uint8Array(await res.arrayBuffer());
    const dec = new V1Decoder();
    dec.write(bytes);
    const pages: { pgno: number; data: Uint8Array }[] = [];
    for (let p = dec.nextPage(); p; p = dec.nextPage()) pages.push({ pgno: p.pgno, data: p.data.slice() });
    const { header, trailer } = dec.end();
    const db = new LocalDB(header.pageSize);
    db.commit = header.commit;
    for (const p of pages) db.pages.set(p.pgno, p.data);
    db.pos = { txid: header.maxTXID, checksum: trailer.postApplyChecksum };
    db.ltx.set(header.maxTXID, bytes);
    this.dbs.set(name, db);
    this.events.push({ db: name, kind: 'restore', maxTXID: header.maxTXID, reason });
    return db.pos;
  }

  /** GET /pos (PosMap). */
  private async fetchPosMap(): Promise<Map<string, Pos>> {
    const res = await this.request('GET', '/pos', {});
    const body = (await res.json()) as Record<string, { txid: string; postApplyChecksum: string }>;
    return new Map(
      Object.entries(body).map(([k, v]) => [k, { txid: BigInt('0x' + v.txid), checksum: BigInt('0x' + v.postApplyChecksum) }]),
    );
  }

  /** POST /db/tx (WriteTx): the body streamed in chunks without a Content-Length; Litefs-Hwm must parse. */
  private async writeTx(name: string, bytes: Uint8Array): Promise<{ status: number; hwm: bigint }> {
    const size = this.opts.chunkBytes;
    let at = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (at >= bytes.length) return controller.close();
        controller.enqueue(bytes.slice(at, at + size));
        at += size;
      },
    });
    const res = await this.request('POST', '/db/tx', { db: name }, body);
    await res.body?.cancel();
    const hwm = res.headers.get('Litefs-Hwm') ?? '';
    if (!/^[0-9a-f]{16}$/.test(hwm)) throw new Error(`cannot parse high-water mark: ${JSON.stringify(hwm)}`);
    return { status: res.status, hwm: BigInt('0x' + hwm) };
  }

  /** newRequest + doRequest: Authorization verbatim, `cluster` first, non-2xx → readResponseError. */
  async request(method: string, path: string, query: Record<string, string>, body?: ReadableStream<Uint8Array>): Promise<Response> {
    const q = new URLSearchParams();
    if (this.opts.cluster) q.set('cluster', this.opts.cluster);
    for (const [k, v] of Object.entries(query)) q.set(k, v);
    const qs = q.toString();
    const res = await this.opts.fetch(`${new URL(this.opts.url).origin}${path}${qs ? '?' + qs : ''}`, {
      method,
      headers: { authorization: this.opts.token, 'litefs-cluster-id': 'LFSC0123456789ABCDEF' },
      body,
    });
    if (res.status >= 200 && res.status < 300) return res;
    const text = await res.text();
    let e: { code?: string; error?: string; pos?: { txid: string; postApplyChecksum: string } };
    try {
      e = JSON.parse(text);
    } catch {
      throw new BackupClientError(res.status, '', text);
    }
    if (e.code === 'EPOSMISMATCH' && e.pos)
      throw new PosMismatchError({ txid: BigInt('0x' + e.pos.txid), checksum: BigInt('0x' + e.pos.postApplyChecksum) });
    throw new BackupClientError(res.status, e.code ?? '', e.error ?? text);
  }
}

function mismatch(pos: Pos, reason: BackupEvent['reason']): PosMismatchError {
  return Object.assign(new PosMismatchError(pos), { reason });
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
