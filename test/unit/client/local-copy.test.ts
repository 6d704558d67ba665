// LocalCopy on a real directory: a download resumed and renamed into place, and after a crash at any step of a move, the sidecar names the state the file holds — or the file is not trusted.

import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FileState, HYDRATION_RECORD_VERSION, hydrationPaths } from '../../../src/client/hydration-record.ts';
import { LocalCopy, StartOver } from '../../../src/client/local-copy.ts';
import { databaseChecksum, formatHex64, formatTXID } from '../../../src/ltx/index.ts';
import { prng } from '../../helpers/prng.ts';

const SEED = 0x10ca1;
const PAGE_SIZE = 512;
const ID = { db: 'shop', createdAt: '2024-01-01T00:00:00.000Z', pageSize: PAGE_SIZE };

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'ltx-edge-local-copy-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A database's pages and its state at `txid`. */
function database(pages: Map<number, Uint8Array>, txid: bigint): FileState {
  const commit = Math.max(0, ...pages.keys());
  const checksum = databaseChecksum(PAGE_SIZE, commit, (p) => pages.get(p) ?? new Uint8Array(PAGE_SIZE));
  return { pos: { txid: formatTXID(txid), postApplyChecksum: formatHex64(checksum) }, commit };
}

function randomPages(count: number, seed: number): Map<number, Uint8Array> {
  const rng = prng(seed);
  return new Map(Array.from({ length: count }, (_, i) => [i + 1, rng.bytes(PAGE_SIZE)]));
}

/** A copy holding `pages` at TXID 3, downloaded in two steps with a "restart" between them. */
async function downloaded(pages: Map<number, Uint8Array>): Promise<{ copy: LocalCopy; state: FileState }> {
  const paths = hydrationPaths(path.join(dir, 'shop.db'));
  const state = database(pages, 3n);
  const first = new LocalCopy(paths, ID);
  const d = await first.startDownload(state, 3n);
  expect(d.resumed).toBe(false);
  d.file.writePages(new Map([...pages].filter(([p]) => p <= 4)));
  await d.file.sync();
  await first.downloaded(4);
  first.closeFiles();
  const copy = new LocalCopy(paths, ID);
  const again = await copy.startDownload(database(pages, 5n), 5n);
  expect(again).toMatchObject({ resumed: true, state: { pages: 4, pos: state.pos } });
  again.file.writePages(new Map([...pages].filter(([p]) => p > 4)));
  expect(await copy.finishDownload(again)).toEqual(state);
  return { copy, state };
}

describe('LocalCopy', () => {
  console.log(`local copy tests: seed ${SEED}`);

  it('resumes a download and renames it into place once its checksum matches', async () => {
    const pages = randomPages(10, SEED);
    const { copy, state } = await downloaded(pages);
    const paths = copy.paths;
    expect(existsSync(paths.partial)).toBe(false);
    expect(readFileSync(paths.file).length).toBe(10 * PAGE_SIZE);
    expect(JSON.parse(readFileSync(paths.record, 'utf8'))).toEqual({ version: HYDRATION_RECORD_VERSION, ...ID, file: state });
    expect(copy.file?.readPage(7)).toEqual(pages.get(7));
    copy.closeFiles();
    expect(await new LocalCopy(paths, ID).verify()).toEqual(state);
  });

  it('refuses a download whose bytes do not give its checksum', async () => {
    const pages = randomPages(6, SEED + 1);
    const copy = new LocalCopy(hydrationPaths(path.join(dir, 'bad.db')), ID);
    const d = await copy.startDownload(database(pages, 2n), 2n);
    pages.set(3, new Uint8Array(PAGE_SIZE));
    d.file.writePages(pages);
    await expect(copy.finishDownload(d)).rejects.toBeInstanceOf(StartOver);
    expect(existsSync(copy.paths.file)).toBe(false);
    copy.closeFiles();
  });

  // A move: the sidecar records it as `next`, the pages are written, the file synced, then the sidecar says `file`.
  const crashes: { name: string; steps: number; holds: 'old' | 'new' | 'neither' }[] = [
    { name: 'after the move was recorded, before any write', steps: 1, holds: 'old' },
    { name: 'halfway through the writes', steps: 2, holds: 'neither' },
    { name: 'after the writes, before the sidecar says so', steps: 3, holds: 'new' },
    { name: 'after everything', steps: 4, holds: 'new' },
  ];
  for (const c of crashes) {
    it(`a crash ${c.name}: the file is trusted as the ${c.holds} state${c.holds === 'neither' ? ' — no, it starts over' : ''}`, async () => {
      const pages = randomPages(10, SEED + 2);
      const { copy, state: old } = await downloaded(pages);
      const rng = prng(SEED + 3);
      const changed = new Map([2, 9, 11, 12].map((p) => [p, rng.bytes(PAGE_SIZE)]));
      const after = new Map([...pages, ...changed]);
      const target = database(after, 4n);
      const move = await copy.prepare(target, new Map(changed));
      if (c.steps === 2) copy.file!.writePages(new Map([...changed].slice(0, 2)));
      if (c.steps >= 3) copy.write(move);
      if (c.steps >= 4) await copy.persist();
      copy.closeFiles(); // the crash
      const reopened = new LocalCopy(copy.paths, ID);
      if (c.holds === 'neither') await expect(reopened.verify()).rejects.toBeInstanceOf(StartOver);
      else expect(await reopened.verify()).toEqual(c.holds === 'old' ? old : target);
      reopened.closeFiles();
    });
  }

  it('refuses a move whose pages do not give the target checksum, before writing anything', async () => {
    const pages = randomPages(8, SEED + 4);
    const { copy, state } = await downloaded(pages);
    const rng = prng(SEED + 5);
    const changed = new Map([3, 5].map((p) => [p, rng.bytes(PAGE_SIZE)]));
    const target = database(new Map([...pages, ...changed]), 4n);
    changed.delete(5);
    await expect(copy.prepare(target, changed)).rejects.toBeInstanceOf(StartOver);
    copy.closeFiles();
    expect(await new LocalCopy(copy.paths, ID).verify()).toEqual(state);
  });

  it('catches up round by round, and refuses a catch-up that misses a page', async () => {
    const pages = randomPages(12, SEED + 6);
    const { copy } = await downloaded(pages);
    const rng = prng(SEED + 7);
    const changed = new Map([1, 4, 8, 13, 14].map((p) => [p, rng.bytes(PAGE_SIZE)]));
    const target = database(new Map([...pages, ...changed]), 6n);
    async function* rounds(skip?: number): AsyncGenerator<Map<number, Uint8Array>> {
      const all = [...changed].filter(([p]) => p !== skip);
      yield new Map(all.slice(0, 2));
      yield new Map(all.slice(2));
    }
    await copy.catchUp(target, rounds());
    await copy.persist();
    copy.closeFiles();
    const reopened = new LocalCopy(copy.paths, ID);
    expect(await reopened.verify()).toEqual(target);
    await reopened.keep(target);
    const further = database(new Map([...pages, ...changed, [2, rng.bytes(PAGE_SIZE)]]), 7n);
    await expect(reopened.catchUp(further, rounds(8))).rejects.toBeInstanceOf(StartOver);
    reopened.closeFiles();
  });

  it("calls another database's sidecar foreign, and discard() leaves an empty record for this one", async () => {
    const { copy } = await downloaded(randomPages(4, SEED + 8));
    copy.closeFiles();
    const other = new LocalCopy(copy.paths, { ...ID, db: 'other' });
    expect(other.foreign).toBe(true);
    await other.discard();
    expect(existsSync(copy.paths.file)).toBe(false);
    expect(JSON.parse(readFileSync(copy.paths.record, 'utf8'))).toEqual({ version: HYDRATION_RECORD_VERSION, ...ID, db: 'other' });
    expect(new LocalCopy(copy.paths, ID).foreign).toBe(true);
  });
});
