// Loads the reference LTX vectors (../shared/ltx-vectors beside the checkout, or $LTX_VECTORS_DIR).

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const VECTORS_DIR = process.env.LTX_VECTORS_DIR ?? path.resolve(import.meta.dirname, '../../../shared/ltx-vectors');

export interface ManifestPage {
  pgno: number;
  flags: number;
  encoding: string;
  offset: number;
  frame_size: number;
  compressed_size: number;
  sha256: string;
  page_checksum: string;
}

export interface ManifestHeader {
  flags: number;
  page_size: number;
  commit: number;
  min_txid: string;
  max_txid: string;
  timestamp_ms: number;
  pre_apply_checksum: string;
  wal_offset: number;
  wal_size: number;
  wal_salt1: number;
  wal_salt2: number;
  node_id: number;
}

export interface ManifestFile {
  path: string;
  set: string;
  description: string;
  apply_after: string[];
  db_after?: { page_size: number; commit: number; sha256: string; rolling_checksum: string };
  decoded: {
    size: number;
    header: ManifestHeader;
    pages: ManifestPage[];
    page_index: { pgno: number; offset: number; size: number }[];
    trailer: { post_apply_checksum: string; file_checksum: string };
  };
}

export interface Manifest {
  files: ManifestFile[];
  extra_files: { path: string; sha256: string; size: number; description: string }[];
  negative: { path: string; description: string; reference_decoder_accepts: boolean }[];
}

export function loadManifest(): Manifest {
  return JSON.parse(readFileSync(path.join(VECTORS_DIR, 'manifest.json'), 'utf8')) as Manifest;
}

export function readVector(rel: string): Uint8Array {
  return new Uint8Array(readFileSync(path.join(VECTORS_DIR, rel)));
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
