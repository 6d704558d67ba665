// JSON shapes the DatabaseDO reports: database info (GET /v1/databases/:db) and catalog rows (GET .../ltx).

import { formatHex64, formatTXID } from '../ltx/index.ts';
import type { CatalogFile, Position } from './catalog.ts';
import type { MaintenanceStateJSON } from './maintenance-state.ts';
import { type PosJSON, posJSON } from './rpc-result.ts';

export interface DatabaseInfo {
  name: string;
  pos: PosJSON;
  pageSize: number;
  /** Database size in pages at the head. */
  commit: number;
  /** pageSize × commit. */
  size: number;
  createdAt: string;
  updatedAt: string;
  levels: { level: number; files: number; bytes: number }[];
  /** The oldest TXID a read or restore can still be planned at, and when it was committed (RFC3339). */
  oldest: { txid: string; timestamp: string } | null;
  /** Writes queued behind the one running. */
  pendingWrites: number;
  /** Failures and backoff of its maintenance. */
  maintenance: MaintenanceStateJSON;
}

export interface FileJSON {
  level: number;
  minTXID: string;
  maxTXID: string;
  size: number;
  /** The LTX header timestamp, RFC3339. */
  timestamp: string;
  postApplyChecksum: string;
}

export function databaseInfo(
  name: string,
  pos: Position,
  levels: DatabaseInfo['levels'],
  oldest: CatalogFile | undefined,
  pendingWrites: number,
  maintenance: MaintenanceStateJSON,
): DatabaseInfo {
  return {
    name,
    pos: posJSON(pos.txid, pos.checksum),
    pageSize: pos.pageSize,
    commit: pos.commit,
    size: pos.pageSize * pos.commit,
    createdAt: new Date(pos.createdAt).toISOString(),
    updatedAt: new Date(pos.updatedAt).toISOString(),
    levels,
    oldest: oldest ? { txid: formatTXID(oldest.maxTXID), timestamp: new Date(oldest.timestamp).toISOString() } : null,
    pendingWrites,
    maintenance,
  };
}

export function fileJSON(f: CatalogFile): FileJSON {
  return {
    level: f.level,
    minTXID: formatTXID(f.minTXID),
    maxTXID: formatTXID(f.maxTXID),
    size: f.size,
    timestamp: new Date(f.timestamp).toISOString(),
    postApplyChecksum: formatHex64(f.postApplyChecksum),
  };
}
