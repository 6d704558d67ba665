// The hydration sidecar: what parses, what is refused (then nothing in it is trusted), which state a file holds by size and checksum.

import { describe, expect, it } from 'vitest';
import {
  HYDRATION_RECORD_VERSION,
  type HydrationRecord,
  formatHydrationRecord,
  hydrationPaths,
  parseHydrationRecord,
  recordMatches,
  stateOfFile,
} from '../../../src/client/hydration-record.ts';

const POS_3 = { txid: '0000000000000003', postApplyChecksum: '8000000000000abc' };
const POS_5 = { txid: '0000000000000005', postApplyChecksum: '8000000000000def' };

const RECORD: HydrationRecord = {
  version: HYDRATION_RECORD_VERSION,
  db: 'shop',
  createdAt: '2024-01-01T00:00:00.000Z',
  pageSize: 4096,
  file: { pos: POS_3, commit: 10 },
  next: { pos: POS_5, commit: 12 },
  download: { pos: POS_5, commit: 12, pages: 4 },
};

describe('parseHydrationRecord', () => {
  it('reads back what formatHydrationRecord writes, with and without the optional parts', () => {
    expect(parseHydrationRecord(formatHydrationRecord(RECORD))).toEqual(RECORD);
    const bare: HydrationRecord = { version: HYDRATION_RECORD_VERSION, db: 'x', createdAt: undefined, pageSize: 512 };
    expect(parseHydrationRecord(formatHydrationRecord(bare))).toEqual(bare);
  });

  const refused: { name: string; text: string }[] = [
    { name: 'not JSON', text: '{"version":1,' },
    { name: 'an array', text: '[]' },
    { name: 'another version', text: JSON.stringify({ ...RECORD, version: 2 }) },
    { name: 'no db', text: JSON.stringify({ ...RECORD, db: '' }) },
    { name: 'createdAt not a string', text: JSON.stringify({ ...RECORD, createdAt: 5 }) },
    { name: 'a page size SQLite does not allow', text: JSON.stringify({ ...RECORD, pageSize: 1000 }) },
    { name: 'a TXID that is not 16 hex digits', text: JSON.stringify({ ...RECORD, file: { pos: { ...POS_3, txid: '3' }, commit: 10 } }) },
    {
      name: 'a checksum in capitals',
      text: JSON.stringify({ ...RECORD, next: { pos: { ...POS_5, postApplyChecksum: '8000000000000DEF' }, commit: 12 } }),
    },
    { name: 'a negative commit', text: JSON.stringify({ ...RECORD, file: { pos: POS_3, commit: -1 } }) },
    { name: 'a fractional commit', text: JSON.stringify({ ...RECORD, file: { pos: POS_3, commit: 1.5 } }) },
    { name: 'more pages downloaded than the commit', text: JSON.stringify({ ...RECORD, download: { pos: POS_5, commit: 12, pages: 13 } }) },
    { name: 'a download without its page count', text: JSON.stringify({ ...RECORD, download: { pos: POS_5, commit: 12 } }) },
  ];
  for (const c of refused) {
    it(`refuses ${c.name}`, () => {
      expect(parseHydrationRecord(c.text)).toBeUndefined();
    });
  }
});

describe('recordMatches', () => {
  it('needs the same name, creation time and page size', () => {
    const id = { db: 'shop', createdAt: RECORD.createdAt, pageSize: 4096 };
    expect(recordMatches(RECORD, id)).toBe(true);
    expect(recordMatches(RECORD, { ...id, db: 'other' })).toBe(false);
    expect(recordMatches(RECORD, { ...id, createdAt: '2025-01-01T00:00:00.000Z' })).toBe(false);
    expect(recordMatches(RECORD, { ...id, createdAt: undefined })).toBe(false);
    expect(recordMatches(RECORD, { ...id, pageSize: 8192 })).toBe(false);
  });
});

describe('stateOfFile', () => {
  const cases: { name: string; size: number; checksum: bigint; want: string | undefined }[] = [
    { name: "the recorded state's size and checksum", size: 10 * 4096, checksum: 0x8000000000000abcn, want: POS_3.txid },
    { name: 'the move under way, completed', size: 12 * 4096, checksum: 0x8000000000000defn, want: POS_5.txid },
    { name: "the recorded checksum at the move's size", size: 12 * 4096, checksum: 0x8000000000000abcn, want: undefined },
    { name: 'a checksum the record does not name (a torn write)', size: 10 * 4096, checksum: 0x8000000000000123n, want: undefined },
  ];
  for (const c of cases) {
    it(`${c.name} → ${c.want ?? 'untrusted'}`, () => {
      expect(stateOfFile(RECORD, c.size, c.checksum)?.pos.txid).toBe(c.want);
    });
  }
});

describe('hydrationPaths', () => {
  it('puts the sidecar and the partial download beside the database file', () => {
    expect(hydrationPaths('/data/shop.db')).toEqual({
      file: '/data/shop.db',
      record: '/data/shop.db-ltx-edge.json',
      partial: '/data/shop.db-ltx-edge.partial',
    });
  });
});
