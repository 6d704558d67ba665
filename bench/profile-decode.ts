// Decode-path workload for the CPU profiler: builds the codec corpus, then runs decodeLTX on it for a while.
//
//   node --cpu-prof --cpu-prof-dir=bench/out bench/profile-decode.ts [pageSize=4096] [seconds=8] [plain|tracked|stream]
//   node bench/cpuprofile-summary.ts bench/out/<file>.cpuprofile decodeLTX
//
// "plain" decodes the NoChecksum snapshot with decodeLTX, "tracked" the checksum-tracking one, "stream" feeds
// LTXDecoder 64 KiB chunks (its root function for the summary is then `push`), "into" does the same with every
// page decoded into one reused buffer (nextPage(into), as ingest, compaction and snapshots do; root `nextPage`).

import { HEADER_FLAG_NO_CHECKSUM, LTXDecoder, LTXEncoder, decodeLTX, makeHeader } from '../src/ltx/index.ts';
import { makeCorpus } from './corpus.ts';

const pageSize = Number(process.argv[2] ?? 4096);
const seconds = Number(process.argv[3] ?? 8);
const mode = process.argv[4] ?? 'plain';
const into = new Uint8Array(pageSize);

const corpus = makeCorpus(pageSize, 32 * 1024 * 1024);
const enc = new LTXEncoder(
  makeHeader({
    pageSize,
    commit: corpus.pages.length,
    minTXID: 1n,
    maxTXID: 1n,
    flags: mode === 'tracked' ? 0 : HEADER_FLAG_NO_CHECKSUM,
  }),
);
const chunks = [enc.start(), ...corpus.pages.map((p, i) => enc.encodePage(i + 1, p)), enc.finish()];
const file = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
let at = 0;
for (const c of chunks) {
  file.set(c, at);
  at += c.length;
}

const t0 = performance.now();
let runs = 0;
while (performance.now() - t0 < seconds * 1000) {
  if (mode === 'into') {
    const dec = new LTXDecoder();
    for (let at = 0; at < file.length; at += 65536) {
      dec.write(file.subarray(at, at + 65536));
      while (dec.nextPage(into));
    }
    dec.end();
  } else if (mode === 'stream') {
    const dec = new LTXDecoder();
    for (let at = 0; at < file.length; at += 65536) dec.push(file.subarray(at, at + 65536));
    dec.end();
  } else {
    decodeLTX(file);
  }
  runs++;
}
const dt = (performance.now() - t0) / 1000;
console.log(
  `${mode} ${pageSize}: ${runs} decodes of ${corpus.bytes / 1e6} MB in ${dt.toFixed(2)} s = ${((runs * corpus.bytes) / 1e6 / dt).toFixed(1)} MB/s`,
);
