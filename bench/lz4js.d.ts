// Types for the parts of lz4js (0.2.0, CommonJS, untyped) the benchmarks use as a baseline.

declare module 'lz4js' {
  interface LZ4js {
    compressBound(n: number): number;
    /** Raw block compression of src[sIndex, sIndex+sLength) into dst from 0; returns its length, 0 if it found no match. */
    compressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, hashTable: Uint32Array): number;
    /** Raw block decompression of src[sIndex, sIndex+sLength) into dst from dIndex; returns the new end in dst. Unchecked. */
    decompressBlock(src: Uint8Array, dst: Uint8Array, sIndex: number, sLength: number, dIndex: number): number;
  }
  const lz4js: LZ4js;
  export default lz4js;
}
