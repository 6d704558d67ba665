// The agent's memory beside the database (`.<name>-ltx-edge/`): what it last pushed, and page checksums to diff against after a restart.

import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MemoryPageChecksums, formatHex64, lockPgno, parseHex64, formatTXID, parseTXID } from '../ltx/index.ts';

/** A server position: TXID and post-apply checksum. */
export interface Pos {
  txid: bigint;
  checksum: bigint;
}

/** state.json: the last position the server acknowledged, and the one a push in flight would reach. */
export interface PushedState {
  url: string;
  db: string;
  pageSize: number;
  pos: Pos;
  /** Written before a push is sent: after a crash the server may be here instead of at `pos`. */
  pending?: Pos;
}

/** pages.sums: every page's checksum at one position, so a restart sends only the pages that differ. */
export interface SavedSums {
  pos: Pos;
  pageSize: number;
  commit: number;
  sums: MemoryPageChecksums;
}

const SUMS_MAGIC = 'LTXESUM1';
const SUMS_HEADER = 40;

/** The directory beside `file`: `<dir>/.<basename>-ltx-edge`. */
export function stateDir(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}-ltx-edge`);
}

/** Reads state.json; undefined when missing or unreadable (the agent then trusts only checksums). */
export async function readPushedState(file: string): Promise<PushedState | undefined> {
  try {
    const j = JSON.parse(await readFile(path.join(stateDir(file), 'state.json'), 'utf8')) as Record<string, unknown>;
    const pos = parsePos(j.pos);
    if (!pos || typeof j.url !== 'string' || typeof j.db !== 'string' || typeof j.pageSize !== 'number') return undefined;
    const pending = j.pending === undefined ? undefined : parsePos(j.pending);
    return { url: j.url, db: j.db, pageSize: j.pageSize, pos, ...(pending ? { pending } : {}) };
  } catch {
    return undefined;
  }
}

/** Replaces state.json atomically (temp file, then rename). */
export async function writePushedState(file: string, s: PushedState): Promise<void> {
  const json = {
    url: s.url,
    db: s.db,
    pageSize: s.pageSize,
    pos: formatPos(s.pos),
    ...(s.pending ? { pending: formatPos(s.pending) } : {}),
  };
  await writeAtomic(file, 'state.json', JSON.stringify(json) + '\n');
}

/** Writes pages.sums: a 40-byte header (magic, TXID, checksum, page size, commit) then one u64 per page. */
export async function writeSavedSums(file: string, s: SavedSums): Promise<void> {
  const bytes = new Uint8Array(SUMS_HEADER + 8 * s.commit);
  const v = new DataView(bytes.buffer);
  bytes.set(new TextEncoder().encode(SUMS_MAGIC), 0);
  v.setBigUint64(8, s.pos.txid);
  v.setBigUint64(16, s.pos.checksum);
  v.setUint32(24, s.pageSize);
  v.setUint32(28, s.commit);
  for (const [pgno, sum] of s.sums.stored(1, s.commit)) v.setBigUint64(SUMS_HEADER + 8 * (pgno - 1), sum);
  await writeAtomic(file, 'pages.sums', bytes);
}

/** Reads pages.sums; undefined when missing, torn or of another format. */
export async function readSavedSums(file: string): Promise<SavedSums | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path.join(stateDir(file), 'pages.sums')));
  } catch {
    return undefined;
  }
  if (bytes.length < SUMS_HEADER || new TextDecoder().decode(bytes.subarray(0, 8)) !== SUMS_MAGIC) return undefined;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const pageSize = v.getUint32(24);
  const commit = v.getUint32(28);
  if (bytes.length !== SUMS_HEADER + 8 * commit) return undefined;
  const sums = new MemoryPageChecksums();
  const lock = lockPgno(pageSize);
  for (let pgno = 1; pgno <= commit; pgno++) {
    const s = v.getBigUint64(SUMS_HEADER + 8 * (pgno - 1));
    if (s !== 0n) sums.set(pgno, s);
    else if (pgno !== lock) return undefined;
  }
  return { pos: { txid: v.getBigUint64(8), checksum: v.getBigUint64(16) }, pageSize, commit, sums };
}

export function samePos(a: Pos | undefined, b: Pos | undefined): boolean {
  return a !== undefined && b !== undefined && a.txid === b.txid && a.checksum === b.checksum;
}

export function formatPos(p: Pos): { txid: string; postApplyChecksum: string } {
  return { txid: formatTXID(p.txid), postApplyChecksum: formatHex64(p.checksum) };
}

/** A wire position (`{txid, postApplyChecksum}`, 16 hex digits each) or undefined. */
export function parsePos(j: unknown): Pos | undefined {
  if (!j || typeof j !== 'object') return undefined;
  const o = j as Record<string, unknown>;
  const txid = typeof o.txid === 'string' ? parseTXID(o.txid) : undefined;
  const checksum = typeof o.postApplyChecksum === 'string' ? parseHex64(o.postApplyChecksum) : undefined;
  return txid !== undefined && checksum !== undefined ? { txid, checksum } : undefined;
}

async function writeAtomic(file: string, name: string, data: string | Uint8Array): Promise<void> {
  const dir = stateDir(file);
  await mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `${name}.tmp`);
  await writeFile(tmp, data, { flush: true });
  await rename(tmp, path.join(dir, name));
}
