// The LTX codec's public surface: pure, no Workers imports (see ltx-format.md beside the repo).

export { ChecksumUpdate, DatabaseState, MemoryPageChecksums, type PageChecksumStore, type PageSink, applyLTX } from './apply.ts';
export { databaseChecksum, formatHex64, pageChecksum, pageChecksumLinear, parseHex64, updateChecksum } from './checksum.ts';
export { type CompactOptions, compactLTX, compactedHeader, isContiguous, mergePages } from './compactor.ts';
export * from './constants.ts';
export { CRC64, compileCRC64Kernel, crc64, crc64Backend, crcLinear, useCRC64Kernel } from './crc64.ts';
export {
  DEFAULT_DECODER_LIMITS,
  type DecodeResult,
  type DecodedPage,
  type DecoderLimits,
  LTXDecoder,
  decodeLTX,
  decodeLTXStream,
} from './decoder.ts';
export { type EncoderState, type IndexEntries, type PageInput, LTXEncoder, concatBytes, encodeLTX, encodeLTXStream } from './encoder.ts';
export { LTX_ERROR_CODES, LTXError, type LTXErrorCode, fail } from './errors.ts';
export { type Header, decodeHeader, encodeHeader, isSnapshot, makeHeader, tracksChecksums, validateHeader } from './header.ts';
export { LTX_FILENAME, formatLTXFilename, parseLTXFilename } from './file-name.ts';
export { type TXID, formatTXID, parseTXID } from './txid.ts';
export { formatTimestamp, parseTimestamp } from './timestamp.ts';
export { MemoryDatabase } from './memory-database.ts';
export { decodePageFrame } from './page-frame.ts';
export {
  type PageIndex,
  type PageIndexFromTail,
  type Trailer,
  INDEX_TAIL_SIZE,
  decodePageIndex,
  decodePageIndexFromTail,
  findPage,
  pageIndexProbeRange,
  tailFacts,
} from './page-index.ts';
export { type ByteSource, PageReader } from './page-reader.ts';
export { type LTXGeneration, convertV1ToCurrentChunks, readChunks, sniffLTXGeneration } from './v1-convert.ts';
export { encodeV1SnapshotFromDatabase } from './v1-encoder.ts';
