// Golden: every LZ4 page payload in the reference vectors (pierrec/lz4 output) decodes to the manifest's sha256.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { compressBound, decompressBlock, LZ4BlockCompressor } from '../../../src/ltx/lz4-block.ts';
import { decodeLZ4Frame, lz4FrameLength } from '../../../src/ltx/lz4-frame.ts';

const VECTORS = path.resolve(import.meta.dirname, '../../../../shared/ltx-vectors');

interface ManifestPage {
  pgno: number;
  encoding: string;
  offset: number;
  frame_size: number;
  compressed_size: number;
  sha256: string;
}
interface ManifestFile {
  path: string;
  decoded: { header: { page_size: number }; pages: ManifestPage[] };
}
interface Manifest {
  files: ManifestFile[];
}

interface Lz4js {
  decompressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, dIndex: number): number;
}
const lz4js = createRequire(import.meta.url)('lz4js') as Lz4js;

const manifest = JSON.parse(readFileSync(path.join(VECTORS, 'manifest.json'), 'utf8')) as Manifest;
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

const filesWithPages = manifest.files.filter((f) => f.decoded.pages.length > 0);

describe('LZ4 golden vectors', () => {
  it('the manifest has both encodings', () => {
    const encodings = new Set(filesWithPages.flatMap((f) => f.decoded.pages.map((p) => p.encoding)));
    expect([...encodings].sort()).toEqual(['lz4-block', 'lz4-frame']);
  });

  for (const file of filesWithPages) {
    describe(file.path, () => {
      const bytes = readFileSync(path.join(VECTORS, file.path));
      const buf = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
      const pageSize = file.decoded.header.page_size;

      it('every page decodes to the manifest sha256', () => {
        for (const page of file.decoded.pages) {
          const out = new Uint8Array(pageSize);
          if (page.encoding === 'lz4-block') {
            const n = new DataView(buf.buffer, buf.byteOffset).getUint32(page.offset + 6);
            expect(n).toBe(page.compressed_size);
            const payload = buf.subarray(page.offset + 10, page.offset + 10 + page.compressed_size);
            expect(decompressBlock(payload, out)).toBe(pageSize);
          } else {
            expect(page.encoding).toBe('lz4-frame');
            decodeLZ4Frame(buf.subarray(page.offset + 6, page.offset + page.frame_size), out);
          }
          expect(sha256(out)).toBe(page.sha256);
        }
      });

      const framePages = file.decoded.pages.filter((p) => p.encoding === 'lz4-frame');
      if (framePages.length > 0) {
        it('lz4FrameLength finds every frame end, also with bytes arriving one at a time', () => {
          for (const page of framePages) {
            const start = page.offset + 6;
            const want = page.frame_size - 6;
            const byteAt = (i: number): number => {
              if (i < 0 || start + i >= buf.length) throw new Error(`read out of range: ${i}`);
              return buf[start + i];
            };
            // All the rest of the file is available: the frame is followed by other bytes.
            expect(lz4FrameLength(byteAt, buf.length - start, pageSize + 65536)).toBe(want);
            for (let available = 0; available <= Math.min(buf.length - start, want + 32); available++) {
              const limited = (i: number): number => {
                if (i >= available) throw new Error(`read past available: ${i} >= ${available}`);
                return byteAt(i);
              };
              const got = lz4FrameLength(limited, available, pageSize + 65536);
              expect(got).toBe(available < want ? -1 : want);
            }
          }
        });
      }

      it('our compressor round-trips every page and lz4js decodes the result', () => {
        const c = new LZ4BlockCompressor();
        const block = new Uint8Array(compressBound(pageSize));
        const page = new Uint8Array(pageSize);
        const back = new Uint8Array(pageSize);
        const viaLz4js = new Uint8Array(pageSize + 64);
        for (const p of file.decoded.pages) {
          if (p.encoding === 'lz4-block') {
            decompressBlock(buf.subarray(p.offset + 10, p.offset + 10 + p.compressed_size), page);
          } else {
            decodeLZ4Frame(buf.subarray(p.offset + 6, p.offset + p.frame_size), page);
          }
          const n = c.compress(page, block);
          expect(decompressBlock(block.subarray(0, n), back)).toBe(pageSize);
          expect(sha256(back)).toBe(p.sha256);
          expect(lz4js.decompressBlock(block, viaLz4js, 0, n, 0)).toBe(pageSize);
          expect(sha256(viaLz4js.subarray(0, pageSize))).toBe(p.sha256);
        }
      });
    });
  }
});
