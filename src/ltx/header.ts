// The 100-byte LTX header: encode, decode and the validation rules of `Header.Validate` (ltx-format.md §2).

import { CHECKSUM_FLAG, HEADER_FLAG_MASK, HEADER_FLAG_NO_CHECKSUM, HEADER_SIZE, isValidPageSize } from './constants.ts';
import { fail } from './errors.ts';

/** An LTX header. 64-bit fields are bigint; the timestamp is milliseconds since the Unix epoch. */
export interface Header {
  flags: number;
  pageSize: number;
  /** Database size in pages after the file is applied; 0 = empty database. */
  commit: number;
  minTXID: bigint;
  maxTXID: bigint;
  /** Milliseconds since the Unix epoch (UTC). Must be a safe integer here (the format allows any int64). */
  timestamp: number;
  preApplyChecksum: bigint;
  walOffset: bigint;
  walSize: bigint;
  walSalt1: number;
  walSalt2: number;
  nodeID: bigint;
}

const MAGIC_U32 = 0x4c545831; // "LTX1"
const RESERVED_OFFSET = 80;
const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;

/** A snapshot holds the whole database; decided by MinTXID == 1 and nothing else. */
export function isSnapshot(h: Header): boolean {
  return h.minTXID === 1n;
}

/** True unless the file carries HeaderFlagNoChecksum. */
export function tracksChecksums(h: Header): boolean {
  return (h.flags & HEADER_FLAG_NO_CHECKSUM) === 0;
}

/** Header fields with defaults for everything a caller usually leaves at zero. */
export function makeHeader(fields: Pick<Header, 'pageSize' | 'commit' | 'minTXID' | 'maxTXID'> & Partial<Header>): Header {
  return {
    flags: 0,
    timestamp: 0,
    preApplyChecksum: 0n,
    walOffset: 0n,
    walSize: 0n,
    walSalt1: 0,
    walSalt2: 0,
    nodeID: 0n,
    ...fields,
  };
}

/** `Header.Validate`: throws LTXError for any header the reference encoder would refuse to write. */
export function validateHeader(h: Header): void {
  if (!Number.isInteger(h.flags) || h.flags < 0 || (h.flags & ~HEADER_FLAG_MASK) !== 0) {
    fail('LTX_BAD_FLAGS', `invalid header flags: 0x${h.flags.toString(16).padStart(8, '0')}`);
  }
  if (!isValidPageSize(h.pageSize)) fail('LTX_BAD_PAGE_SIZE', `invalid page size: ${h.pageSize}`);
  if (!Number.isInteger(h.commit) || h.commit < 0 || h.commit > 0xffffffff) {
    fail('LTX_BAD_HEADER', `invalid commit: ${h.commit}`);
  }
  if (h.minTXID <= 0n || h.minTXID > UINT64_MAX) fail('LTX_BAD_TXID', 'minimum transaction id required');
  if (h.maxTXID <= 0n || h.maxTXID > UINT64_MAX) fail('LTX_BAD_TXID', 'maximum transaction id required');
  if (h.minTXID > h.maxTXID) fail('LTX_BAD_TXID', `transaction ids out of order: (${h.minTXID},${h.maxTXID})`);
  if (!Number.isSafeInteger(h.timestamp)) fail('LTX_BAD_HEADER', `timestamp out of range: ${h.timestamp}`);
  if (h.walOffset < 0n || h.walOffset > INT64_MAX) fail('LTX_BAD_HEADER', 'wal offset out of range');
  if (h.walSize < 0n || h.walSize > INT64_MAX) fail('LTX_BAD_HEADER', 'wal size out of range');
  if (h.walOffset === 0n && h.walSize !== 0n) fail('LTX_BAD_HEADER', 'wal size requires a wal offset');
  if (h.walOffset === 0n && (h.walSalt1 !== 0 || h.walSalt2 !== 0)) {
    fail('LTX_BAD_HEADER', 'wal salts require a wal offset');
  }
  if (h.nodeID < 0n || h.nodeID > UINT64_MAX) fail('LTX_BAD_HEADER', 'node id out of range');
  validateChecksum(h.preApplyChecksum, 'pre-apply');
  if (isSnapshot(h)) {
    if (h.preApplyChecksum !== 0n) fail('LTX_BAD_HEADER', 'pre-apply checksum must be zero on snapshots');
  } else if (!tracksChecksums(h)) {
    if (h.preApplyChecksum !== 0n) fail('LTX_BAD_HEADER', 'pre-apply checksum must be zero with NoChecksum');
  } else {
    if (h.preApplyChecksum === 0n) fail('LTX_BAD_HEADER', 'pre-apply checksum required on non-snapshot files');
    if ((h.preApplyChecksum & CHECKSUM_FLAG) === 0n) fail('LTX_BAD_HEADER', 'invalid pre-apply checksum format');
  }
}

function validateChecksum(v: bigint, what: string): void {
  if (v < 0n || v > UINT64_MAX) fail('LTX_BAD_HEADER', `${what} checksum out of range`);
}

/** Serializes a validated header into 100 bytes (reserved bytes zero). */
export function encodeHeader(h: Header): Uint8Array {
  validateHeader(h);
  return writeHeaderBytes(h);
}

/** The 100 header bytes for any field values, valid or not (tests build broken files with it). */
export function writeHeaderBytes(h: Header): Uint8Array {
  const out = new Uint8Array(HEADER_SIZE);
  const v = new DataView(out.buffer);
  v.setUint32(0, MAGIC_U32);
  v.setUint32(4, h.flags);
  v.setUint32(8, h.pageSize);
  v.setUint32(12, h.commit);
  v.setBigUint64(16, h.minTXID);
  v.setBigUint64(24, h.maxTXID);
  v.setBigInt64(32, BigInt(h.timestamp));
  v.setBigUint64(40, h.preApplyChecksum);
  v.setBigInt64(48, h.walOffset);
  v.setBigInt64(56, h.walSize);
  v.setUint32(64, h.walSalt1);
  v.setUint32(68, h.walSalt2);
  v.setBigUint64(72, h.nodeID);
  return out;
}

/**
 * Parses and validates the first 100 bytes of an LTX file. Strict: reserved bytes must be zero.
 * `validate` is the generation's rule set (the v1 reader passes its own).
 */
export function decodeHeader(bytes: Uint8Array, validate: (h: Header) => void = validateHeader): Header {
  if (bytes.length < HEADER_SIZE) fail('LTX_TRUNCATED', `header needs ${HEADER_SIZE} bytes, got ${bytes.length}`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, HEADER_SIZE);
  if (v.getUint32(0) !== MAGIC_U32) fail('LTX_BAD_MAGIC', 'invalid LTX file: bad magic');
  const ts = v.getBigInt64(32);
  const h: Header = {
    flags: v.getUint32(4),
    pageSize: v.getUint32(8),
    commit: v.getUint32(12),
    minTXID: v.getBigUint64(16),
    maxTXID: v.getBigUint64(24),
    timestamp: Number(ts),
    preApplyChecksum: v.getBigUint64(40),
    walOffset: v.getBigInt64(48),
    walSize: v.getBigInt64(56),
    walSalt1: v.getUint32(64),
    walSalt2: v.getUint32(68),
    nodeID: v.getBigUint64(72),
  };
  if (BigInt(h.timestamp) !== ts) fail('LTX_BAD_HEADER', `timestamp out of range: ${ts}`);
  validate(h);
  for (let i = RESERVED_OFFSET; i < HEADER_SIZE; i++) {
    if (bytes[i] !== 0) fail('LTX_RESERVED_SET', `reserved header byte ${i} is set`);
  }
  return h;
}
