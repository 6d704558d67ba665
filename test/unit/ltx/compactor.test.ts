// Our compaction of each reference chain equals the reference compactor's output; random chains compact to their apply.

import { describe, expect, it } from 'vitest';
import { DatabaseState, applyLTX } from '../../../src/ltx/apply.ts';
import { CHECKSUM_FLAG, HEADER_FLAG_NO_CHECKSUM } from '../../../src/ltx/constants.ts';
import { compactLTX } from '../../../src/ltx/compactor.ts';
import { decodeLTX } from '../../../src/ltx/decoder.ts';
import { concatBytes, encodeLTX } from '../../../src/ltx/encoder.ts';
import { LTXError } from '../../../src/ltx/errors.ts';
import { makeHeader } from '../../../src/ltx/header.ts';
import { MemoryDatabase } from '../../../src/ltx/memory-database.ts';
import { prng } from '../../helpers/prng.ts';
import { loadManifest, readVector, sha256 } from '../../helpers/vectors.ts';

const manifest = loadManifest();
const SEED = 4242;

async function collect(gen: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const c of gen) chunks.push(c);
  return concatBytes(chunks);
}

/** The reference compaction files and the inputs (same set, TXID range inside) they were made from. */
const compactions = manifest.files
  .filter((f) => f.path.includes('/compacted/'))
  .map((f) => {
    const dir = f.path.slice(0, f.path.indexOf('/compacted/'));
    const [cmin, cmax] = f.path
      .split('/')
      .pop()!
      .replace('.ltx', '')
      .split('-')
      .map((h) => BigInt('0x' + h));
    const inputs = manifest.files
      .filter((g) => !g.path.includes('/compacted/') && g.path.startsWith(dir + '/'))
      .filter((g) => BigInt('0x' + g.decoded.header.min_txid) >= cmin && BigInt('0x' + g.decoded.header.max_txid) <= cmax)
      .map((g) => g.path)
      .sort();
    return { ref: f, inputs };
  });

describe('compaction matches the reference compactor', () => {
  it.each(compactions.map((c) => [c.ref.path, c] as const))('%s', async (_, { ref, inputs }) => {
    expect(inputs.length).toBeGreaterThan(1);
    const flags = ref.decoded.header.flags;
    const out = await collect(
      compactLTX(
        inputs.map((p) => [readVector(p)]),
        { headerFlags: flags },
      ),
    );
    const ours = decodeLTX(out);
    const theirs = decodeLTX(readVector(ref.path));
    expect({ ...ours.header }).toEqual({ ...theirs.header });
    expect(ours.pages.map((p) => [p.pgno, sha256(p.data)])).toEqual(theirs.pages.map((p) => [p.pgno, sha256(p.data)]));
    expect(ours.trailer.postApplyChecksum).toBe(theirs.trailer.postApplyChecksum);

    // Applied after the same base, both give the manifest's database.
    const state = new DatabaseState();
    const db = new MemoryDatabase();
    for (const rel of ref.apply_after) await applyLTX(state, [readVector(rel)], db);
    await applyLTX(state, [out], db);
    expect(sha256(db.toBytes())).toBe(ref.db_after!.sha256);
    expect(state.checksum.toString(16)).toBe(ref.db_after!.rolling_checksum);
  });

  it('rejects a gap, a page size change and a tracked output over NoChecksum inputs', async () => {
    const set = (n: number) => `block-ps4096/000000000000000${n}-000000000000000${n}.ltx`;
    const code = async (inputs: string[], flags?: number) => {
      try {
        await collect(
          compactLTX(
            inputs.map((p) => [readVector(p)]),
            { headerFlags: flags },
          ),
        );
        return 'OK';
      } catch (e) {
        return e instanceof LTXError ? e.code : String(e);
      }
    };
    expect(await code([set(1), set(3)])).toBe('LTX_NOT_CONTIGUOUS');
    expect(await code([set(2), set(1)])).toBe('LTX_NOT_CONTIGUOUS');
    expect(await code([set(1), 'block-ps512/0000000000000002-0000000000000002.ltx'])).toBe('LTX_PAGE_SIZE_MISMATCH');
    expect(
      await code(
        ['block-ps4096-nochecksum/0000000000000001-0000000000000001.ltx', 'block-ps4096-nochecksum/0000000000000002-0000000000000002.ltx'],
        0,
      ),
    ).toBe('LTX_INVALID_ARGUMENT');
  });
});

describe(`random chains: compaction equals sequential apply (seed ${SEED})`, () => {
  console.log(`compactor seed ${SEED}`);
  it.each([512, 4096, 65536])('page size %i', async (pageSize) => {
    const r = prng(SEED ^ pageSize);
    for (let iter = 0; iter < 5; iter++) {
      // A chain: snapshot, then incrementals that change, grow and shrink the database.
      const db = new MemoryDatabase();
      const state = new DatabaseState();
      const files: Uint8Array[] = [];
      let commit = 1 + r.int(20);
      const page = () => (r.int(3) === 0 ? r.bytes(pageSize) : new Uint8Array(pageSize).fill(r.int(256)));
      const snap = Array.from({ length: commit }, (_, i) => ({ pgno: i + 1, data: page() }));
      files.push(encodeLTX(makeHeader({ pageSize, commit, minTXID: 1n, maxTXID: 1n, timestamp: 1 }), snap));
      await applyLTX(state, [files[0]], db);
      for (let tx = 2n; tx < 2n + BigInt(2 + r.int(6)); tx++) {
        const next = Math.max(1, commit + r.int(9) - 4);
        const pgnos = new Set<number>();
        for (let p = commit + 1; p <= next; p++) pgnos.add(p); // growth writes the new pages
        for (let n = r.int(5); n > 0; n--) pgnos.add(1 + r.int(next));
        const pages = [...pgnos].sort((a, b) => a - b).map((pgno) => ({ pgno, data: page() }));
        const header = makeHeader({
          pageSize,
          commit: next,
          minTXID: tx,
          maxTXID: tx,
          timestamp: Number(tx),
          preApplyChecksum: state.checksum,
        });
        const post = await postApplyOf(state, header, pages, db);
        files.push(encodeLTX(header, pages, post));
        await applyLTX(state, [files[files.length - 1]], db);
        commit = next;
      }
      const compacted = decodeLTX(await collect(compactLTX(files.map((f) => [f]))));
      expect(compacted.header.commit).toBe(db.commit);
      expect(compacted.pages.length).toBe(db.commit);
      for (const p of compacted.pages) expect(p.data).toEqual(db.page(p.pgno));
      expect(compacted.trailer.postApplyChecksum).toBe(state.checksum);
      // NoChecksum output over the same inputs, as Litestream compacts.
      const lite = decodeLTX(
        await collect(
          compactLTX(
            files.map((f) => [f]),
            { headerFlags: HEADER_FLAG_NO_CHECKSUM },
          ),
        ),
      );
      expect(lite.trailer.postApplyChecksum).toBe(0n);
      expect(lite.pages.map((p) => p.pgno)).toEqual(compacted.pages.map((p) => p.pgno));
    }
  });
});

/**
 * The true post-apply checksum of `pages` on top of `db`, computed by applying them as a NoChecksum
 * file to a copy. The compactor's snapshot output re-derives it from the pages, so a wrong value fails.
 */
async function postApplyOf(
  state: DatabaseState,
  header: ReturnType<typeof makeHeader>,
  pages: { pgno: number; data: Uint8Array }[],
  db: MemoryDatabase,
): Promise<bigint> {
  const copy = new DatabaseState();
  const scratch = new MemoryDatabase();
  const snapshotPages = Array.from({ length: db.commit }, (_, i) => ({ pgno: i + 1, data: db.page(i + 1) }));
  await applyLTX(
    copy,
    [encodeLTX(makeHeader({ pageSize: header.pageSize, commit: db.commit, minTXID: 1n, maxTXID: state.txid }), snapshotPages)],
    scratch,
  );
  const nochk = encodeLTX({ ...header, flags: HEADER_FLAG_NO_CHECKSUM, preApplyChecksum: 0n }, pages, 0n);
  await applyLTX(copy, [nochk], scratch);
  expect(copy.checksum & CHECKSUM_FLAG).toBe(CHECKSUM_FLAG);
  return copy.checksum;
}
