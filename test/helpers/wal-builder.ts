// Builds SQLite -wal files in memory from a tiny spec, with checksums from a plain reference sum (not src/agent's).

/** One frame: `data` defaults to a page of zeros; `commit` (database size in pages) marks a commit frame. */
export interface WALFrameSpec {
  pgno: number;
  data?: Uint8Array;
  commit?: number;
  /** Write these salts instead of the header's (a stale frame); the chain still runs through it. */
  salts?: [number, number];
}

export interface WALSpec {
  pageSize: number;
  /** Checksum words big-endian (magic 0x377f0683); default false (0x377f0682). */
  bigEndian?: boolean;
  salt1?: number;
  salt2?: number;
  checkpointSeq?: number;
  /** Override the magic or version (the header checksum is still computed over what is written). */
  magic?: number;
  version?: number;
  frames: WALFrameSpec[];
}

/** SQLite's WAL checksum the obvious way: u32 words two at a time, s1 += x0 + s2; s2 += x1 + s1 (mod 2^32). */
export function referenceChecksum(bytes: Uint8Array, bigEndian: boolean, s: [number, number]): [number, number] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let [s1, s2] = s;
  for (let i = 0; i < bytes.length; i += 8) {
    s1 = (s1 + dv.getUint32(i, !bigEndian) + s2) >>> 0;
    s2 = (s2 + dv.getUint32(i + 4, !bigEndian) + s1) >>> 0;
  }
  return [s1, s2];
}

/** The WAL bytes for `spec`: header then every frame, each checksum continuing the previous one. */
export function buildWAL(spec: WALSpec): Uint8Array {
  const ps = spec.pageSize;
  const frameSize = 24 + ps;
  const be = spec.bigEndian ?? false;
  const out = new Uint8Array(32 + spec.frames.length * frameSize);
  const dv = new DataView(out.buffer);
  const salt1 = spec.salt1 ?? 0x11223344;
  const salt2 = spec.salt2 ?? 0x55667788;
  dv.setUint32(0, spec.magic ?? (be ? 0x377f0683 : 0x377f0682));
  dv.setUint32(4, spec.version ?? 3007000);
  dv.setUint32(8, ps);
  dv.setUint32(12, spec.checkpointSeq ?? 0);
  dv.setUint32(16, salt1);
  dv.setUint32(20, salt2);
  let sum = referenceChecksum(out.subarray(0, 24), be, [0, 0]);
  dv.setUint32(24, sum[0]);
  dv.setUint32(28, sum[1]);
  spec.frames.forEach((f, i) => {
    const at = 32 + i * frameSize;
    dv.setUint32(at, f.pgno);
    dv.setUint32(at + 4, f.commit ?? 0);
    dv.setUint32(at + 8, f.salts?.[0] ?? salt1);
    dv.setUint32(at + 12, f.salts?.[1] ?? salt2);
    if (f.data) out.set(f.data.subarray(0, ps), at + 24);
    sum = referenceChecksum(out.subarray(at, at + 8), be, sum);
    sum = referenceChecksum(out.subarray(at + 24, at + frameSize), be, sum);
    dv.setUint32(at + 16, sum[0]);
    dv.setUint32(at + 20, sum[1]);
  });
  return out;
}

/** Byte offset of frame `i` (0-based) in a WAL of page size `pageSize`. */
export function frameOffset(pageSize: number, i: number): number {
  return 32 + i * (24 + pageSize);
}
