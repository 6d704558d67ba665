// A resumed encoder (a chunked snapshot's later step) writes the same bytes as one that never stopped.

import { describe, expect, it } from 'vitest';
import { CRC64, crc64 } from '../../../src/ltx/crc64.ts';
import { HEADER_FLAG_NO_CHECKSUM, LTXEncoder, concatBytes, decodeLTX, encodeLTX, makeHeader } from '../../../src/ltx/index.ts';
import { prng } from '../../helpers/prng.ts';

describe('resuming', () => {
  it('CRC64.fromDigest continues a CRC as if it had read the bytes', () => {
    const r = prng(61);
    const a = r.bytes(1000);
    const b = r.bytes(777);
    const resumed = CRC64.fromDigest(new CRC64().update(a).digest()).update(b).digest();
    expect(resumed).toBe(crc64(concatBytes([a, b])));
  });

  it('LTXEncoder.resume at any page gives the one-pass file, byte for byte (tracked and NoChecksum)', () => {
    const r = prng(62);
    const pages = Array.from({ length: 40 }, (_, i) => ({ pgno: i + 1, data: r.int(2) ? r.bytes(512) : new Uint8Array(512).fill(i) }));
    for (const flags of [0, HEADER_FLAG_NO_CHECKSUM]) {
      const header = makeHeader({ pageSize: 512, commit: 40, minTXID: 1n, maxTXID: 7n, timestamp: 1_700_000_000_000, flags });
      const whole = encodeLTX(header, pages);
      for (const cut of [1, 2, 17, 39]) {
        const first = new LTXEncoder(header);
        const chunks = [first.start(), ...pages.slice(0, cut).map((p) => first.encodePage(p.pgno, p.data))];
        const earlier = first.takeIndex();
        const second = LTXEncoder.resume(header, first.saveState());
        chunks.push(...pages.slice(cut).map((p) => second.encodePage(p.pgno, p.data)));
        const later = second.takeIndex();
        const index = {
          pgnos: [...earlier.pgnos, ...later.pgnos],
          offsets: [...earlier.offsets, ...later.offsets],
          sizes: [...earlier.sizes, ...later.sizes],
        };
        chunks.push(second.finish(undefined, index));
        expect(concatBytes(chunks), `flags ${flags}, cut at ${cut}`).toEqual(whole);
      }
      expect(decodeLTX(whole).pages.length).toBe(40);
    }
  });

  it('a resumed encoder still refuses a page out of order', () => {
    const header = makeHeader({ pageSize: 512, commit: 4, minTXID: 1n, maxTXID: 1n, timestamp: 0, flags: HEADER_FLAG_NO_CHECKSUM });
    const enc = new LTXEncoder(header);
    enc.start();
    enc.encodePage(1, new Uint8Array(512));
    enc.encodePage(2, new Uint8Array(512));
    const resumed = LTXEncoder.resume(header, enc.saveState());
    expect(() => resumed.encodePage(2, new Uint8Array(512))).toThrow();
  });
});
