// `npm run test:browser` (`node test/browser/run.ts [--stand-in]`): third-party HTTP-range SQLite readers in headless chromium open ltx-edge read links; every answer is checked against Python's sqlite3.
//
// Default: the real local platform (wrangler dev on a free port). `--stand-in`: no platform, the
// local files served by test/browser/range-file-server.ts, whose own request log then checks the
// browser-side counts. Exits 1 on any wrong answer, reader error, or a tampered link that is served.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type LinkTargets, platformTargets, standInTargets } from './link-targets.ts';
import { type RangeAnswer, type RangeJob, openRangeBrowser } from './range-readers.ts';
import { QUERIES, buildWorkload, referenceRows, sameRows } from './workload.ts';

const standIn = process.argv.includes('--stand-in');
const dir = mkdtempSync(path.join(tmpdir(), 'ltx-edge-browser-run-'));
const failures: string[] = [];
let targets: LinkTargets | undefined;
let browser: Awaited<ReturnType<typeof openRangeBrowser>> | undefined;
const started = Date.now();

try {
  const files = buildWorkload(dir);
  targets = standIn ? await standInTargets(files) : await platformTargets(files, dir);
  console.log(`links (${targets.kind}):`);
  for (const link of targets.links) console.log(`  ${link.label}  ${link.url}`);
  browser = await openRangeBrowser();

  const names = Object.keys(QUERIES);
  const expected = new Map<string, unknown[][]>();
  const jobs: RangeJob[] = [];
  for (const link of targets.links) {
    const rows = referenceRows(link.file, Object.values(QUERIES));
    names.forEach((name, i) => {
      expected.set(`${link.url}\n${QUERIES[name]}`, rows[i]);
      jobs.push({ url: link.url, sql: QUERIES[name] });
    });
  }
  const answers = await browser.read(jobs);
  printTable(answers, targets, expected);

  for (const a of answers) {
    const label = `${a.reader} ${labelOf(targets, a.url)} "${nameOf(a.sql)}"`;
    if (a.error !== undefined) failures.push(`${label}: ${a.error}`);
    else if (!sameRows(a.rows, expected.get(`${a.url}\n${a.sql}`)!)) failures.push(`${label}: rows differ from sqlite3's`);
    // sql.js-httpvfs counts its own range requests: the browser must have seen exactly those.
    if (a.readerStats && a.readerStats.requests !== a.rangeRequests)
      failures.push(`${label}: browser saw ${a.rangeRequests} range requests, the reader made ${a.readerStats.requests}`);
    if (a.rangeRequests === 0) failures.push(`${label}: no range request seen`);
  }

  if (targets.served) {
    const seen = answers.reduce((sum, a) => ({ requests: sum.requests + a.requests, bytes: sum.bytes + a.bytes }), {
      requests: 0,
      bytes: 0,
    });
    const served = targets.served;
    console.log(
      `\nstand-in log: ${served.requests} requests, ${served.bytes} body bytes; the browser saw ${seen.requests} requests, ${seen.bytes} body bytes`,
    );
    if (served.requests !== seen.requests || served.bytes !== seen.bytes)
      failures.push('the browser-side counts disagree with the stand-in server log');
  }

  const tamperedStatus = await browser.fetchStatus(targets.tampered);
  const goodStatus = await browser.fetchStatus(targets.links[0].url);
  console.log(
    `\nbrowser fetch (Range: bytes=0-99), cross-origin: link ${goodStatus}, tampered link ${tamperedStatus}  (${targets.tampered})`,
  );
  if (goodStatus !== 206) failures.push(`the untouched link answered ${goodStatus}, not 206`);
  // The platform refuses a changed link with 403 LINK_INVALID; the stand-in just does not know the path.
  const refused = targets.kind === 'platform' ? tamperedStatus === 403 : typeof tamperedStatus === 'number' && tamperedStatus >= 400;
  if (!refused) failures.push(`the tampered link answered ${tamperedStatus}`);
} catch (e) {
  failures.push(`run failed: ${(e as Error).stack ?? e}`);
} finally {
  await browser?.close().catch(() => undefined);
  await targets?.close().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}

console.log(`\n${failures.length === 0 ? 'ok' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
for (const f of failures) console.log(`  - ${f}`);
process.exitCode = failures.length === 0 ? 0 : 1;

function nameOf(sql: string): string {
  return Object.keys(QUERIES).find((k) => QUERIES[k] === sql) ?? sql;
}

function labelOf(t: LinkTargets, url: string): string {
  return t.links.find((l) => l.url === url)?.label ?? url;
}

function printTable(answers: RangeAnswer[], t: LinkTargets, expected: Map<string, unknown[][]>): void {
  const rows = answers.map((a) => {
    const want = expected.get(`${a.url}\n${a.sql}`)!;
    const ok = a.error === undefined && sameRows(a.rows, want);
    const stats = a.readerStats ? `${a.readerStats.requests} / ${a.readerStats.bytes}` : '';
    return [
      a.reader,
      labelOf(t, a.url),
      nameOf(a.sql),
      ok ? `${want.length} ok` : a.error ? 'ERROR' : 'WRONG',
      String(a.requests),
      String(a.rangeRequests),
      String(a.bytes),
      stats,
    ];
  });
  const head = ['reader', 'link', 'query', 'rows', 'requests', 'ranges', 'bytes', 'reader stats (req / bytes)'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i >= 4 && i <= 6 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  console.log(`\n${line(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const r of rows) console.log(line(r));
}
