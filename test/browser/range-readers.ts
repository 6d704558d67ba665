// Drives headless Debian chromium (playwright-core): opens URLs with third-party HTTP-range SQLite readers on a page of another origin, returning rows and the HTTP traffic the browser saw.

import { type Browser, type BrowserContext, type Request, chromium } from 'playwright-core';
import { type PageServer, startPageServer } from './page-server.ts';

/** The readers the page bundles (test/browser/page/readers.js). */
export const RANGE_READERS = ['sql.js-httpvfs', 'sqlite-wasm-http'] as const;
export type RangeReader = (typeof RANGE_READERS)[number];

/** Debian's chromium; playwright-core downloads no browser of its own. */
export const CHROMIUM = process.env.LTX_EDGE_CHROMIUM ?? '/usr/bin/chromium';

export interface RangeJob {
  url: string;
  sql: string;
}

/** What one reader did for one job, on a cold browser context (no HTTP cache, fresh worker). */
export interface RangeAnswer extends RangeJob {
  reader: RangeReader;
  /** Rows as arrays of column values; absent when the reader failed. */
  rows?: unknown[][];
  error?: string;
  /** Requests to `url` the browser made, workers included (no CORS preflight: a single `bytes=a-b` Range is a safelisted header). */
  requests: number;
  /** Those of them with a Range header. */
  rangeRequests: number;
  /** Response body bytes of those requests (HEAD counts 0). */
  bytes: number;
  /** Statuses seen, in order. */
  statuses: number[];
  /** The reader's own count, where it keeps one (sql.js-httpvfs getStats). */
  readerStats: { requests: number; bytes: number; fileBytes: number } | null;
}

export interface RangeBrowser {
  /** Runs every job with every reader, one cold context each, one after another. */
  read(jobs: readonly RangeJob[], readers?: readonly RangeReader[]): Promise<RangeAnswer[]>;
  /** Status of a cross-origin `fetch(url, {Range})` from the page, or a network error's text. */
  fetchStatus(url: string): Promise<number | string>;
  close(): Promise<void>;
}

/** Bundles and serves the page, launches chromium. Close it to stop both. */
export async function openRangeBrowser(): Promise<RangeBrowser> {
  const pages = await startPageServer();
  let browser: Browser | undefined;
  try {
    // --no-sandbox: the tests run as root, where chromium's sandbox refuses to start.
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  } catch (e) {
    await pages.close();
    throw e;
  }
  const b = browser;
  return {
    async read(jobs, readers = RANGE_READERS) {
      const out: RangeAnswer[] = [];
      for (const job of jobs) for (const reader of readers) out.push(await readOnce(b, pages, reader, job));
      return out;
    },
    async fetchStatus(url) {
      return withPage(b, pages, async (_context, evaluate) => (await evaluate('ltxFetchStatus', url)) as number | string);
    },
    async close() {
      await b.close();
      await pages.close();
    },
  };
}

/** One reader's open and query; page.evaluate has no timeout of its own. */
const JOB_TIMEOUT_MS = 120_000;

type Evaluate = (fn: string, ...args: string[]) => Promise<unknown>;

/** A fresh context and page on the test page, ready; closed afterwards. */
async function withPage<T>(
  browser: Browser,
  pages: PageServer,
  use: (context: BrowserContext, evaluate: Evaluate) => Promise<T>,
): Promise<T> {
  const context = await browser.newContext();
  try {
    // A route, even one that passes everything on, turns chromium's HTTP cache off for the context: links
    // are cacheable, and a cache holding parts of a file splits one reader's range request into several
    // on the wire. Without it every range a reader asks for is one request the server sees.
    await context.route('**/*', (route) => route.continue());
    const page = await context.newPage();
    const logs: string[] = [];
    page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
    await page.goto(pages.url);
    await page.waitForFunction('globalThis.ltxReady === true', undefined, { timeout: 30_000 }).catch((e: Error) => {
      throw new Error(`${e.message}\npage log:\n${logs.join('\n')}`);
    });
    // Functions named by string: this file is type-checked without DOM types.
    const evaluate: Evaluate = (fn, ...args) =>
      withTimeout(page.evaluate(`globalThis.${fn}(...${JSON.stringify(args)})`), JOB_TIMEOUT_MS, `${fn}(${args.join(', ')})`);
    return await use(context, evaluate);
  } finally {
    await context.close();
  }
}

async function readOnce(browser: Browser, pages: PageServer, reader: RangeReader, job: RangeJob): Promise<RangeAnswer> {
  return withPage(browser, pages, async (context, evaluate) => {
    // Context-level events include dedicated workers' requests (both readers fetch from a worker).
    const seen: Request[] = [];
    const settled: Promise<unknown>[] = [];
    const onRequest = (r: Request) => {
      if (r.url() !== job.url) return;
      seen.push(r);
      settled.push(
        r
          .response()
          .then((res) => res?.finished())
          .catch(() => undefined),
      );
    };
    context.on('request', onRequest);
    const result = (await evaluate('ltxRangeRead', reader, job.url, job.sql)) as {
      rows?: unknown[][];
      error?: string;
      stats?: RangeAnswer['readerStats'];
    };
    await Promise.all(settled);
    context.off('request', onRequest);
    let rangeRequests = 0;
    let bytes = 0;
    const statuses: number[] = [];
    for (const r of seen) {
      if ((await r.headerValue('range')) !== null) rangeRequests++;
      const res = await r.response();
      statuses.push(res?.status() ?? 0);
      if (r.method() !== 'HEAD') bytes += (await r.sizes()).responseBodySize;
    }
    return {
      ...job,
      reader,
      rows: result.rows,
      error: result.error,
      requests: seen.length,
      rangeRequests,
      bytes,
      statuses,
      readerStats: result.stats ?? null,
    };
  });
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
