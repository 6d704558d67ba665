// Raw LZ4 block compression ("fast", greedy, one hash probe) and a fully bounds-checked block decoder.

import { fail } from './errors.ts';

// LZ4 block format constants (lz4 "Block format description").
/** Shortest match the format can express (token match length 0 = 4 bytes). */
const MIN_MATCH = 4;
/** The last 5 bytes of a block are always literals. */
const LAST_LITERALS = 5;
/** The last match must start at least 12 bytes before the end of the block. */
const MF_LIMIT = 12;
/** Offsets are 16-bit, so a match can reach back at most 65535 bytes. */
const MAX_OFFSET = 65535;

// Compressor tuning.
/** 2^14 hash slots (64 KiB of Int32) for inputs up to LARGE_INPUT bytes. */
const HASH_LOG = 14;
/**
 * Inputs longer than this hash into 2^LARGE_HASH_LOG slots (256 KiB): a 64 KiB page in 2^14 slots
 * collides often enough to miss matches; with 2^16, 64 KiB pages compress 13% faster and slightly
 * smaller. 4 KiB pages keep the small table (the compressor is made per encoder).
 */
const LARGE_INPUT = 16 * 1024;
const LARGE_HASH_LOG = 16;
/** Knuth's multiplicative hash constant (2654435761). */
const HASH_PRIME = 0x9e3779b1 | 0;
/** After 2^6 failed probes the search step grows by one (skips through incompressible data). */
const SKIP_TRIGGER = 6;
/** Generations are stored as base + position in an Int32Array; stay below 2^31. */
const MAX_GENERATION = 0x7fffffff;

// Copies shorter than these are done byte by byte; longer ones use the native bulk copies.
const LITERAL_BULK_COPY = 32;
const MATCH_BULK_COPY = 32;

/** LZ4's worst-case compressed size for `n` input bytes: n + floor(n/255) + 16. */
export function compressBound(n: number): number {
  return n + Math.floor(n / 255) + 16;
}

function read32(a: Uint8Array, i: number): number {
  return a[i] | (a[i + 1] << 8) | (a[i + 2] << 16) | (a[i + 3] << 24);
}

/**
 * LZ4 "fast" block compressor. Keeps its hash table between calls; each call starts a new
 * generation (positions are stored as generation base + offset), so no per-call clearing.
 * Not reentrant: use one instance per concurrent caller.
 */
export class LZ4BlockCompressor {
  #table = new Int32Array(1 << HASH_LOG);
  /** Value added to positions in this call; slots below it belong to earlier calls (or are 0). */
  #base = 1;

  /**
   * Compresses `src` into `dst` as one raw LZ4 block and returns the number of bytes written.
   * `dst.length` must be at least `compressBound(src.length)` (else LTX_INVALID_ARGUMENT).
   * Always succeeds; incompressible input becomes a literals-only block.
   */
  compress(src: Uint8Array, dst: Uint8Array): number {
    const n = src.length;
    if (dst.length < compressBound(n)) {
      fail('LTX_INVALID_ARGUMENT', `LZ4 destination too small: ${dst.length} < ${compressBound(n)}`);
    }
    let op = 0;
    let anchor = 0;

    // Inputs shorter than MF_LIMIT + 1 cannot hold a match that obeys the end-of-block rules.
    if (n > MF_LIMIT) {
      const log = n > LARGE_INPUT ? LARGE_HASH_LOG : HASH_LOG;
      if (this.#table.length !== 1 << log) {
        this.#table = new Int32Array(1 << log);
        this.#base = 1;
      }
      const table = this.#table;
      const shift = 32 - log;
      let base = this.#base;
      if (base + n + 1 > MAX_GENERATION) {
        table.fill(0);
        base = 1;
      }
      this.#base = base + n + 1;

      const mfLimit = n - MF_LIMIT; // last position where a match may start
      const matchLimit = n - LAST_LITERALS; // matches must end at or before this

      table[Math.imul(read32(src, 0), HASH_PRIME) >>> shift] = base;
      let ip = 1;

      outer: for (;;) {
        // Find a 4-byte match, stepping faster the longer nothing is found.
        let ref: number;
        let probes = 1 << SKIP_TRIGGER;
        for (;;) {
          if (ip > mfLimit) break outer;
          const seq = read32(src, ip);
          const h = Math.imul(seq, HASH_PRIME) >>> shift;
          ref = table[h] - base;
          table[h] = base + ip;
          if (ref >= 0 && ip - ref <= MAX_OFFSET && read32(src, ref) === seq) break;
          ip += probes++ >> SKIP_TRIGGER;
        }

        // Extend backwards into pending literals, then forwards up to matchLimit.
        while (ip > anchor && ref > 0 && src[ip - 1] === src[ref - 1]) {
          ip--;
          ref--;
        }
        let len = MIN_MATCH;
        while (ip + len + 4 <= matchLimit && read32(src, ip + len) === read32(src, ref + len)) len += 4;
        while (ip + len < matchLimit && src[ip + len] === src[ref + len]) len++;

        // Sequence: token, literal length bytes, literals, offset (LE16), match length bytes.
        const litLen = ip - anchor;
        const tokenPos = op++;
        let token: number;
        if (litLen >= 15) {
          token = 0xf0;
          let rest = litLen - 15;
          while (rest >= 255) {
            dst[op++] = 255;
            rest -= 255;
          }
          dst[op++] = rest;
        } else {
          token = litLen << 4;
        }
        if (litLen >= LITERAL_BULK_COPY) {
          dst.set(src.subarray(anchor, ip), op);
          op += litLen;
        } else {
          for (let k = anchor; k < ip; k++) dst[op++] = src[k];
        }
        const offset = ip - ref;
        dst[op++] = offset & 0xff;
        dst[op++] = offset >>> 8;
        let ml = len - MIN_MATCH;
        if (ml >= 15) {
          token |= 15;
          ml -= 15;
          while (ml >= 255) {
            dst[op++] = 255;
            ml -= 255;
          }
          dst[op++] = ml;
        } else {
          token |= ml;
        }
        dst[tokenPos] = token;

        ip += len;
        anchor = ip;
        if (ip > mfLimit) break;
        // Index a position inside the match so the next repeat of this data is found.
        table[Math.imul(read32(src, ip - 2), HASH_PRIME) >>> shift] = base + ip - 2;
      }
    }

    // Last sequence: literals only.
    const litLen = n - anchor;
    if (litLen >= 15) {
      dst[op++] = 0xf0;
      let rest = litLen - 15;
      while (rest >= 255) {
        dst[op++] = 255;
        rest -= 255;
      }
      dst[op++] = rest;
    } else {
      dst[op++] = litLen << 4;
    }
    dst.set(src.subarray(anchor, n), op);
    return op + litLen;
  }
}

/**
 * Decodes the raw LZ4 block `src` into `dst` and returns the number of bytes written.
 * Throws LTX_BAD_PAGE_DATA for any malformed block: empty input, truncated sequence, match
 * offset 0 or reaching before the start of `dst`, output that would not fit in `dst`. A block
 * ends exactly at the end of `src` with a literals-only sequence, so trailing bytes are parsed
 * as more sequences and rejected unless they happen to fit (callers check the returned length).
 *
 * `dstStart` (default 0) is where writing begins; the bytes of `dst` before it are history that
 * matches may reach back into (the linked blocks of an LZ4 frame).
 *
 * Reads and writes stay inside `src` and `dst`; no allocation except a view for literal runs of
 * 32+ bytes.
 */
export function decompressBlock(src: Uint8Array, dst: Uint8Array, dstStart = 0): number {
  // Bounds taken from .length and `| 0` on the start let the JIT drop most of its own index
  // checks: measurably (~10%) faster than passing arbitrary ranges.
  const srcEnd = src.length;
  const dstEnd = dst.length;
  const start = dstStart | 0;
  if (start !== dstStart || start < 0 || start > dstEnd) fail('LTX_INVALID_ARGUMENT', 'LZ4 dstStart outside dst');
  let s = 0;
  let d = start;
  if (s >= srcEnd) fail('LTX_BAD_PAGE_DATA', 'LZ4 block is empty');

  // Hot loop: SQLite pages are mostly short sequences (a few literals, ~12-byte matches), so
  // per-sequence work is kept to a handful of compares and short copies are unrolled.
  for (;;) {
    const token = src[s++];

    // Literals.
    let litLen = token >>> 4;
    if (litLen !== 0) {
      if (litLen === 15) {
        let b: number;
        do {
          if (s >= srcEnd) fail('LTX_BAD_PAGE_DATA', 'LZ4 block truncated in literal length');
          b = src[s++];
          litLen += b;
        } while (b === 255);
      }
      if (litLen > srcEnd - s) fail('LTX_BAD_PAGE_DATA', 'LZ4 block truncated in literals');
      if (litLen > dstEnd - d) fail('LTX_BAD_PAGE_DATA', 'LZ4 literals overflow the output');
      if (litLen >= LITERAL_BULK_COPY) {
        dst.set(src.subarray(s, s + litLen), d);
        s += litLen;
        d += litLen;
      } else {
        do dst[d++] = src[s++];
        while (--litLen !== 0);
      }
    }

    // A block ends right after the literals of its last sequence; otherwise a 2-byte offset follows.
    if (s >= srcEnd - 1) {
      if (s === srcEnd) return d - start;
      fail('LTX_BAD_PAGE_DATA', 'LZ4 block truncated in match offset');
    }

    // Match.
    const offset = src[s] | (src[s + 1] << 8);
    s += 2;
    if (offset === 0) fail('LTX_BAD_PAGE_DATA', 'LZ4 match offset 0');
    if (offset > d) fail('LTX_BAD_PAGE_DATA', 'LZ4 match offset before the start of the output');
    let ml = token & 15;
    if (ml === 15) {
      let b: number;
      do {
        if (s >= srcEnd) fail('LTX_BAD_PAGE_DATA', 'LZ4 block truncated in match length');
        b = src[s++];
        ml += b;
      } while (b === 255);
    }
    ml += MIN_MATCH;
    if (ml > dstEnd - d) fail('LTX_BAD_PAGE_DATA', 'LZ4 match overflows the output');

    let m = d - offset;
    if (ml < MATCH_BULK_COPY) {
      // Short match, overlapping or not: stores in ascending order replicate a pattern whose
      // period (offset) is shorter than the match, so the 4-way unrolled copy stays correct.
      const end = d + ml;
      do {
        dst[d] = dst[m];
        dst[d + 1] = dst[m + 1];
        dst[d + 2] = dst[m + 2];
        dst[d + 3] = dst[m + 3];
        d += 4;
        m += 4;
      } while (d + 4 <= end);
      while (d < end) dst[d++] = dst[m++];
    } else if (offset >= ml) {
      dst.copyWithin(d, m, m + ml);
      d += ml;
    } else {
      // Long overlapping match (a repeated pattern of period `offset`): seed it byte by byte,
      // then copy ever larger whole multiples of the period with copyWithin.
      const end = d + ml;
      const seedEnd = d + MATCH_BULK_COPY;
      while (d < seedEnd) dst[d++] = dst[m++];
      // [seedEnd - MATCH_BULK_COPY - offset, d) now repeats with period `offset`; copy from it
      // the largest whole multiple of the period that fits, doubling as the region grows.
      const periodic = MATCH_BULK_COPY + offset;
      let span = periodic - (periodic % offset);
      while (d < end) {
        const chunk = span < end - d ? span : end - d;
        dst.copyWithin(d, d - span, d - span + chunk);
        d += chunk;
        span += span;
      }
    }
    if (s >= srcEnd) fail('LTX_BAD_PAGE_DATA', 'LZ4 block ends with a match, not literals');
  }
}
