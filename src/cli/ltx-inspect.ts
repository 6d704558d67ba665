// `ltx-edge ltx inspect <file> [--json]`: header, pages and trailer of one LTX file (DESIGN §5).

import { createHash } from 'node:crypto';
import {
  type DecodeResult,
  type Header,
  LTXDecoder,
  type Trailer,
  formatHex64,
  isSnapshot,
  lockPgno,
  pageChecksum,
  tracksChecksums,
  formatTXID,
} from '../ltx/index.ts';
import { EXIT_OK, UsageError, describeError, parseCommandArgs, reportFailure } from './cli-errors.ts';
import type { CliIO } from './cli-io.ts';
import { withFileChunks } from './file-io.ts';

export const INSPECT_USAGE = `Usage: ltx-edge ltx inspect <file> [--json]

Decodes and strictly verifies one LTX file, streaming it from disk, and prints its header, every
page (number, frame offset and size, encoding, SHA-256 of the decompressed page) and the trailer.
Exit 1 if the file is invalid.`;

/** One page as `inspect --json` prints it: the frame's place as in the page index, and a digest of its data. */
export interface InspectPage {
  pgno: number;
  offset: number;
  size: number;
  sha256: string;
  /** "block" (LZ4 block, current format) or "frame" (legacy LZ4 frame). */
  encoding: 'block' | 'frame';
  /** The page's LTX checksum, FLAG | CRC64(pgno || data), 16 hex digits. */
  checksum: string;
}

/** The header as `inspect --json` prints it: TXIDs and checksums in 16 lowercase hex digits. */
export function headerJSON(h: Header) {
  return {
    flags: h.flags,
    pageSize: h.pageSize,
    commit: h.commit,
    minTXID: formatTXID(h.minTXID),
    maxTXID: formatTXID(h.maxTXID),
    timestamp: h.timestamp,
    timestampISO: isoTime(h.timestamp),
    preApplyChecksum: formatHex64(h.preApplyChecksum),
    walOffset: Number(h.walOffset),
    walSize: Number(h.walSize),
    walSalt1: h.walSalt1,
    walSalt2: h.walSalt2,
    // A JSON number, as DESIGN §5 asks; exact up to 2^53.
    nodeID: Number(h.nodeID),
    isSnapshot: isSnapshot(h),
    noChecksum: !tracksChecksums(h),
    lockPgno: lockPgno(h.pageSize),
  };
}

export function trailerJSON(t: Trailer) {
  return { postApplyChecksum: formatHex64(t.postApplyChecksum), fileChecksum: formatHex64(t.fileChecksum) };
}

/** ISO-8601 of a millisecond timestamp, or null when outside the range Date can represent. */
function isoTime(ms: number): string | null {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/**
 * Decodes `file` from disk, keeping only per-page metadata (about 150 bytes a page), never page data.
 * Throws LTXError for an invalid file, a Node error for I/O.
 */
export async function inspectFile(file: string): Promise<{ result: DecodeResult; pages: InspectPage[] }> {
  const dec = new LTXDecoder();
  const pages: InspectPage[] = [];
  await withFileChunks(file, async (chunks) => {
    for await (const chunk of chunks) {
      for (const p of dec.push(chunk)) {
        pages.push({
          pgno: p.pgno,
          offset: p.offset,
          size: p.size,
          sha256: createHash('sha256').update(p.data).digest('hex'),
          encoding: p.legacy ? 'frame' : 'block',
          checksum: formatHex64(pageChecksum(p.pgno, p.data)),
        });
      }
    }
  });
  return { result: dec.end(), pages };
}

export async function runInspect(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    args,
    { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    INSPECT_USAGE,
  );
  if (values.help) {
    await io.out(INSPECT_USAGE + '\n');
    return EXIT_OK;
  }
  if (positionals.length !== 1) throw new UsageError('ltx inspect takes exactly one file', INSPECT_USAGE);
  const file = positionals[0];
  const json = values.json === true;
  let inspected: Awaited<ReturnType<typeof inspectFile>>;
  try {
    inspected = await inspectFile(file);
  } catch (e) {
    return reportFailure(io, { ...describeError(e), file }, json);
  }
  const { result, pages } = inspected;
  if (json) await printInspectJSON(io, file, result, pages);
  else await printInspectText(io, file, result, pages);
  return EXIT_OK;
}

/** The DESIGN §5 object, pretty-printed with one line per page, written in slices to bound string sizes. */
async function printInspectJSON(io: CliIO, file: string, r: DecodeResult, pages: InspectPage[]): Promise<void> {
  const indent = (s: string): string => s.replace(/\n/g, '\n  ');
  let text = '{\n';
  text += `  "file": ${JSON.stringify(file)},\n  "size": ${r.size},\n  "pageCount": ${r.pageCount},\n`;
  text += `  "header": ${indent(JSON.stringify(headerJSON(r.header), null, 2))},\n`;
  text += pages.length === 0 ? '  "pages": [],\n' : '  "pages": [\n';
  for (let i = 0; i < pages.length; i++) {
    text += `    ${JSON.stringify(pages[i])}${i + 1 < pages.length ? ',' : ''}\n`;
    if (text.length > 1 << 16) {
      await io.out(text);
      text = '';
    }
  }
  if (pages.length > 0) text += '  ],\n';
  text += `  "trailer": ${indent(JSON.stringify(trailerJSON(r.trailer), null, 2))}\n}\n`;
  await io.out(text);
}

async function printInspectText(io: CliIO, file: string, r: DecodeResult, pages: InspectPage[]): Promise<void> {
  const h = headerJSON(r.header);
  const t = trailerJSON(r.trailer);
  const hex32 = (n: number): string => '0x' + n.toString(16).padStart(8, '0');
  const rows: [string, string | number][] = [
    ['file', file],
    ['size', `${r.size} bytes`],
    ['flags', hex32(h.flags) + (h.noChecksum ? ' (NoChecksum)' : '')],
    ['page size', h.pageSize],
    ['commit', `${h.commit} pages`],
    ['TXIDs', `${h.minTXID}-${h.maxTXID}${h.isSnapshot ? ' (snapshot)' : ''}`],
    ['timestamp', `${h.timestampISO ?? 'out of range'} (${h.timestamp} ms)`],
    ['pre-apply checksum', h.preApplyChecksum],
    ['WAL offset/size', `${h.walOffset} / ${h.walSize}`],
    ['WAL salts', `${hex32(h.walSalt1)} ${hex32(h.walSalt2)}`],
    ['node ID', h.nodeID],
    ['post-apply checksum', t.postApplyChecksum],
    ['file checksum', t.fileChecksum],
    ['pages', r.pageCount],
  ];
  let text = rows.map(([k, v]) => `${k.padEnd(20)} ${v}`).join('\n') + '\n';
  if (pages.length > 0) {
    text += `\n${'pgno'.padStart(10)} ${'offset'.padStart(12)} ${'size'.padStart(6)}  enc    ${'checksum'.padEnd(16)}  sha256\n`;
    for (const p of pages) {
      text += `${String(p.pgno).padStart(10)} ${String(p.offset).padStart(12)} ${String(p.size).padStart(6)}  `;
      text += `${p.encoding.padEnd(5)}  ${p.checksum}  ${p.sha256}\n`;
      if (text.length > 1 << 16) {
        await io.out(text);
        text = '';
      }
    }
  }
  await io.out(text);
}
