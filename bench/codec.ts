// Codec suite: bare LZ4 / CRC primitives vs the LTX decoder and encoder, and lz4js as the baseline.

import lz4js from 'lz4js';
import {
  CRC64,
  HEADER_FLAG_NO_CHECKSUM,
  HEADER_SIZE,
  LTXDecoder,
  LTXEncoder,
  PAGE_HEADER_SIZE,
  PAGE_SIZE_FIELD_SIZE,
  crc64,
  decodeLTX,
  makeHeader,
} from '../src/ltx/index.ts';
import { LZ4BlockCompressor, compressBound, decompressBlock } from '../src/ltx/lz4-block.ts';
import { CORPUS_MIX, type Corpus, makeCorpus } from './corpus.ts';
import {
  type Measurement,
  type Section,
  type Suite,
  type SuiteContext,
  formatMiB,
  formatPct,
  formatRate,
  formatRatio,
  measureGroup,
  prng,
} from './harness.ts';

const CORPUS_BYTES = 32 * 1024 * 1024;
const CHUNK = 64 * 1024;
/** decode+verify must reach this fraction of bare LZ4 block decoding. */
const DECODE_GOAL = 0.7;

/** Decodes+verifies `file` fed in 64 KiB chunks, every page into one buffer, as ingest, compaction and snapshots do (PageReader recycles two). */
function decodeInto(file: Uint8Array, pageSize: number): number {
  const dec = new LTXDecoder();
  const into = new Uint8Array(pageSize);
  let n = 0;
  for (let at = 0; at < file.length; at += CHUNK) {
    dec.write(file.subarray(at, at + CHUNK));
    while (dec.nextPage(into)) n++;
  }
  dec.end();
  return n;
}

/** Encodes the corpus as one snapshot file (pgno 1..n). NoChecksum like Litestream, or tracked like LiteFS. */
function encodeSnapshot(c: Corpus, tracked: boolean): Uint8Array {
  const header = makeHeader({
    pageSize: c.pageSize,
    commit: c.pages.length,
    minTXID: 1n,
    maxTXID: 1n,
    flags: tracked ? 0 : HEADER_FLAG_NO_CHECKSUM,
    timestamp: 1_750_000_000_000,
  });
  const enc = new LTXEncoder(header);
  const chunks = [enc.start(), ...c.pages.map((p, i) => enc.encodePage(i + 1, p)), enc.finish()];
  const out = new Uint8Array(chunks.reduce((n, ch) => n + ch.length, 0));
  let at = 0;
  for (const ch of chunks) {
    out.set(ch, at);
    at += ch.length;
  }
  return out;
}

/** The LZ4 payload of every page frame, as views into the file (what the decoder decompresses). */
function payloads(file: Uint8Array, count: number): Uint8Array[] {
  const v = new DataView(file.buffer, file.byteOffset, file.length);
  const out: Uint8Array[] = [];
  let at = HEADER_SIZE;
  for (let i = 0; i < count; i++) {
    const n = v.getUint32(at + PAGE_HEADER_SIZE);
    const start = at + PAGE_HEADER_SIZE + PAGE_SIZE_FIELD_SIZE;
    out.push(file.subarray(start, start + n));
    at = start + n;
  }
  return out;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function check(cond: boolean, what: string): void {
  if (!cond) throw new Error(`codec bench self-check failed: ${what}`);
}

interface Row {
  m: Measurement;
  /** Compressed bytes / input bytes, for compressors. */
  size?: number;
  /** Denominator row for the "vs" column. */
  vs?: Measurement;
  vsLabel?: string;
}

function pageSizeSection(c: Corpus, ctx: SuiteContext): { section: Section; ratios: Record<string, number> } {
  const { pageSize, pages } = c;
  const bytes = c.bytes;
  const opts = ctx.options;
  const group = (cases: [string, () => unknown][]): Measurement[] => {
    const ms = measureGroup(
      cases.map(([name, fn]) => ({ name, fn, work: { bytes } })),
      opts,
    );
    for (const m of ms) {
      ctx.log(
        `  ${String(pageSize).padStart(5)} B  ${m.name.padEnd(46)} ${formatRate(m.median).padStart(7)} MB/s  ±${formatPct(m.mad)} (${m.samples}×${m.callsPerSample})`,
      );
    }
    return ms;
  };

  const file = encodeSnapshot(c, false);
  const trackedFile = encodeSnapshot(c, true);
  const blocks = payloads(file, pages.length);

  // Self-checks (untimed): the decoder returns the corpus, lz4js reads our blocks and we read its.
  const decoded = decodeLTX(file);
  check(decoded.pages.length === pages.length && decoded.pages.every((p, i) => equal(p.data, pages[i])), 'decodeLTX round trip');
  check(decodeLTX(trackedFile).pages.length === pages.length, 'tracked decode');
  const scratch = new Uint8Array(pageSize);
  const jsTable = new Uint32Array(1 << 16);
  const jsDst = new Uint8Array(lz4js.compressBound(pageSize));
  for (let i = 0; i < pages.length; i += 7) {
    check(
      lz4js.decompressBlock(blocks[i], scratch, 0, blocks[i].length, 0) === pageSize && equal(scratch, pages[i]),
      'lz4js reads our block',
    );
    jsTable.fill(0);
    const n = lz4js.compressBlock(pages[i], jsDst, 0, pageSize, jsTable);
    if (n > 0) check(decompressBlock(jsDst.subarray(0, n), scratch) === pageSize && equal(scratch, pages[i]), 'we read lz4js block');
  }

  // --- Decode side: MB/s of decompressed output. ---
  const dst = new Uint8Array(pageSize);
  const [lz4Decode, lz4Fresh, lz4Crc, lz4CrcFresh, ltxDecode, ltxRecycled, ltxTracked, jsDecode] = group([
    [
      'LZ4 block decode alone',
      () => {
        for (const b of blocks) decompressBlock(b, dst);
        return dst;
      },
    ],
    [
      'LZ4 block decode, fresh page buffer each',
      () => {
        let d = dst;
        for (const b of blocks) {
          d = new Uint8Array(pageSize);
          decompressBlock(b, d);
        }
        return d;
      },
    ],
    [
      'LZ4 block decode + CRC-64 of output',
      () => {
        const crc = new CRC64();
        for (const b of blocks) {
          decompressBlock(b, dst);
          crc.update(dst);
        }
        return crc.digest();
      },
    ],
    [
      'LZ4 block decode + CRC-64, fresh page buffer each',
      () => {
        const crc = new CRC64();
        for (const b of blocks) {
          const d = new Uint8Array(pageSize);
          decompressBlock(b, d);
          crc.update(d);
        }
        return crc.digest();
      },
    ],
    ['LTX decode+verify (decodeLTX, whole file, a fresh buffer per page)', () => decodeLTX(file).pageCount],
    ['LTX decode+verify, one reused page buffer (nextPage(into), 64 KiB chunks)', () => decodeInto(file, pageSize)],
    ['LTX decode+verify, checksum-tracking file, one reused page buffer', () => decodeInto(trackedFile, pageSize)],
    [
      'lz4js decompressBlock',
      () => {
        for (const b of blocks) lz4js.decompressBlock(b, dst, 0, b.length, 0);
        return dst;
      },
    ],
  ]);

  // --- Encode side: MB/s of page input. ---
  const compressor = new LZ4BlockCompressor();
  const cdst = new Uint8Array(compressBound(pageSize));
  let ourSize = 0;
  for (const p of pages) ourSize += compressor.compress(p, cdst);
  let jsSize = 0;
  let jsStored = 0;
  for (const p of pages) {
    jsTable.fill(0);
    const n = lz4js.compressBlock(p, jsDst, 0, pageSize, jsTable);
    jsSize += n > 0 ? n : pageSize; // 0 = "no match found": the caller must store the page raw
    if (n === 0) jsStored++;
  }
  const header = makeHeader({ pageSize, commit: pages.length, minTXID: 1n, maxTXID: 1n, flags: HEADER_FLAG_NO_CHECKSUM });
  const [lz4Compress, ltxEncode, jsCompress] = group([
    [
      'LZ4 block compress alone',
      () => {
        let n = 0;
        for (const p of pages) n += compressor.compress(p, cdst);
        return n;
      },
    ],
    [
      'LTX encode (LTXEncoder)',
      () => {
        const enc = new LTXEncoder(header);
        const chunks = [enc.start()];
        for (let i = 0; i < pages.length; i++) chunks.push(enc.encodePage(i + 1, pages[i]));
        chunks.push(enc.finish());
        return chunks;
      },
    ],
    [
      'lz4js compressBlock',
      () => {
        let n = 0;
        for (const p of pages) {
          // Its table holds absolute positions with no generation: stale entries would yield offset-0 matches.
          jsTable.fill(0);
          n += lz4js.compressBlock(p, jsDst, 0, pageSize, jsTable);
        }
        return n;
      },
    ],
  ]);

  const vsDecode = { vs: lz4Decode, vsLabel: 'LZ4 decode' };
  const vsCompress = { vs: lz4Compress, vsLabel: 'LZ4 compress' };
  const rows: Row[] = [
    { m: lz4Decode },
    { m: lz4Fresh, ...vsDecode },
    { m: lz4Crc, ...vsDecode },
    { m: lz4CrcFresh, ...vsDecode },
    { m: ltxDecode, ...vsDecode },
    { m: ltxRecycled, ...vsDecode },
    { m: ltxTracked, ...vsDecode },
    { m: jsDecode, ...vsDecode },
    { m: lz4Compress, size: ourSize / bytes },
    { m: ltxEncode, size: file.length / bytes, ...vsCompress },
    { m: jsCompress, size: jsSize / bytes, ...vsCompress },
  ];

  const r = (m: Measurement, base: Measurement) => m.median / base.median;
  const ratios = {
    decode: r(ltxDecode, lz4Decode),
    recycled: r(ltxRecycled, lz4Decode),
    tracked: r(ltxTracked, lz4Decode),
    floor: r(lz4Crc, lz4Decode),
    floorFresh: r(lz4CrcFresh, lz4Decode),
    overFloor: r(ltxRecycled, lz4Crc),
    overFloorFresh: r(ltxDecode, lz4CrcFresh),
    encode: r(ltxEncode, lz4Compress),
    jsDecode: r(lz4Decode, jsDecode),
    jsCompress: r(lz4Compress, jsCompress),
  };
  const verdict = (x: number) => (x >= DECODE_GOAL ? 'meets the goal' : '**below the goal**');
  const bold = (x: number) => (x >= DECODE_GOAL ? formatRatio(x) : `**${formatRatio(x)}**`);

  const section: Section = {
    title: `${pageSize}-byte pages`,
    intro: [
      `${pages.length} pages (${formatMiB(bytes)}); snapshot file ${formatMiB(file.length)} ` +
        `(${formatPct(file.length / bytes)} of the pages), checksum-tracking variant ${formatMiB(trackedFile.length)}.`,
    ],
    table: {
      columns: ['benchmark', 'MB/s', '± (MAD)', 'samples', 'vs', 'out/in size'],
      rows: rows.map(({ m, size, vs, vsLabel }) => [
        m.name,
        formatRate(m.median),
        `±${formatPct(m.mad)}`,
        `${m.samples}×${m.callsPerSample}`,
        vs ? `${formatRatio(m.median / vs.median)} ${vsLabel}` : 'baseline',
        size === undefined ? '' : formatPct(size),
      ]),
    },
    notes: [
      `decode+verify, one reused page buffer / lz4 decode = ${bold(ratios.recycled)} (goal ≥ ${formatRatio(DECODE_GOAL)}): ${verdict(ratios.recycled)}; ` +
        `the path of every consumer that is done with a page before the next (ingest, verify, compaction, snapshots)`,
      `decode+verify (checksum-tracking file, one reused page buffer) / lz4 decode = ${bold(ratios.tracked)} (goal ≥ ${formatRatio(DECODE_GOAL)}): ${verdict(ratios.tracked)}`,
      `decode+verify with a fresh buffer per page (decodeLTX, for callers that keep every page) / lz4 decode = ${formatRatio(ratios.decode)} (no goal)`,
      `(lz4 decode + CRC-64) / lz4 decode = ${formatRatio(ratios.floor)}: the ceiling for decode+verify with this LZ4 and CRC, ` +
        `since the file checksum covers every decompressed byte (${formatRatio(ratios.floorFresh)} with a fresh buffer per page)`,
      `decode+verify with one reused buffer / (lz4 decode + CRC-64) = ${formatRatio(ratios.overFloor)}, with fresh buffers / (lz4 + CRC, fresh page buffer each) = ` +
        `${formatRatio(ratios.overFloorFresh)}: what the decoder keeps of those ceilings (framing, index and order checks, page objects)`,
      `LTX encode / lz4 compress = ${formatRatio(ratios.encode)} (no goal set)`,
      `our LZ4 vs lz4js: decode ${formatRatio(ratios.jsDecode)}, compress ${formatRatio(ratios.jsCompress)} as fast; ` +
        `compressed size ${formatPct(ourSize / bytes)} (ours) vs ${formatPct(jsSize / bytes)} (lz4js, ${jsStored} pages it gave up on counted raw)`,
    ],
  };
  return { section, ratios };
}

export const suite: Suite = {
  name: 'codec',
  title: 'LZ4, CRC-64 and the LTX codec',
  run(ctx) {
    const mix = CORPUS_MIX.map(([k, s]) => `${Math.round(s * 100)}% ${k}`).join(', ');
    const sections: Section[] = [];
    const ratios: Record<string, number>[] = [];
    const sizes = [4096, 65536];
    for (const pageSize of sizes) {
      ctx.log(`  building the ${pageSize}-byte corpus…`);
      const c = makeCorpus(pageSize, CORPUS_BYTES);
      const out = pageSizeSection(c, ctx);
      sections.push(out.section);
      ratios.push(out.ratios);
    }
    const goal = `≥ ${formatRatio(DECODE_GOAL)}`;
    const line = (label: string, key: string, g = ''): string[] => [
      label,
      ...ratios.map((r) => (g && r[key] < DECODE_GOAL ? `**${formatRatio(r[key])}**` : formatRatio(r[key]))),
      g,
    ];
    sections.unshift({
      title: 'Ratios at a glance',
      table: {
        columns: ['ratio (same run)', ...sizes.map((s) => `${s} B pages`), 'goal'],
        rows: [
          line('decode+verify, one reused page buffer / lz4 decode', 'recycled', goal),
          line('decode+verify (checksum-tracking), one reused buffer / lz4 decode', 'tracked', goal),
          line('decode+verify, a fresh buffer per page (decodeLTX) / lz4 decode', 'decode'),
          line('ceiling: (lz4 decode + CRC-64) / lz4 decode', 'floor'),
          line('same, fresh page buffer each: (lz4 + CRC, fresh) / lz4', 'floorFresh'),
          line('decoder logic: reused buffer / (lz4 + CRC)', 'overFloor'),
          line('decoder logic: fresh buffers / (lz4 + CRC, fresh)', 'overFloorFresh'),
          line('LTX encode / lz4 compress', 'encode'),
          line('our LZ4 decode / lz4js decode', 'jsDecode'),
          line('our LZ4 compress / lz4js compress', 'jsCompress'),
        ],
      },
      notes: ['Bold: below its goal.'],
    });

    const raw = prng(0xc4c).bytes(CORPUS_BYTES + 8);
    const aligned = raw.subarray(0, CORPUS_BYTES);
    const unaligned = raw.subarray(1, 1 + CORPUS_BYTES);
    const crcs = measureGroup(
      [
        { name: 'CRC-64/GO-ISO, 32 MiB buffer (4-byte aligned)', fn: () => crc64(aligned), work: { bytes: CORPUS_BYTES } },
        { name: 'CRC-64/GO-ISO, 32 MiB buffer at byte offset 1', fn: () => crc64(unaligned), work: { bytes: CORPUS_BYTES } },
      ],
      ctx.options,
    );
    for (const m of crcs) ctx.log(`  ${m.name.padEnd(54)} ${formatRate(m.median).padStart(7)} MB/s  ±${formatPct(m.mad)}`);
    sections.push({
      title: 'CRC-64/GO-ISO',
      table: {
        columns: ['benchmark', 'MB/s', '± (MAD)', 'samples'],
        rows: crcs.map((m) => [m.name, formatRate(m.median), `±${formatPct(m.mad)}`, `${m.samples}×${m.callsPerSample}`]),
      },
    });

    return {
      intro: [
        `Corpus: ${formatMiB(CORPUS_BYTES)} of seeded SQLite-like pages per page size (${mix}): table leaves are ` +
          'orders-like records (ints, a real, short text, NULLs) packed at the page end behind a zero gap, index leaves ' +
          'hold sorted (last, first, rowid) keys, "empty" is half all-zero pages and half freelist trunks / nearly ' +
          'empty leaves, random is incompressible. Each is encoded once as one snapshot LTX file (NoChecksum, as ' +
          'Litestream writes them); the checksum-tracking variant (as LiteFS writes them) also verifies the rolling ' +
          'database checksum (a CRC-64 per page, XORed).',
        'Decode rows are MB/s of decompressed page data; encode rows are MB/s of page input. "LZ4 block decode alone" ' +
          'decompresses the pre-extracted payloads into one reused page buffer; lz4js (0.2.0) runs its block API on ' +
          'the same payloads / pages with one reused hash table (64 Ki entries), which must be cleared before every page. "vs" is the median throughput ratio to the named row.',
      ],
      sections,
    };
  },
};
