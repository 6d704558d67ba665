// `node test/browser/console.ts`: the web console (/ui/) in headless chromium against the real local platform, driven by accessible names; exits 1 on any failed check.
//
// A database `shop` gets four transactions (an import and three page-set writes, the last while the
// page is open); `other` is there for the filter. Checked: a refused token, sign-in with Enter, the
// list and its prefix filter, Time/slider/timeline picking the point, SQL at TXID 1 and 3 in a <table>,
// an SQL error, the tables browser and its row counts, what changed, the head moving by the watch
// stream, a download equal to the snapshot route's bytes, a read link, restore (and Escape cancelling
// it) and undo checked through the API, the API calls panel, reload and sign-out, and the main flow
// with the keyboard only. Any console error or warning (but the 401 and 400 provoked on purpose), page
// error, request to another origin or token in a URL fails. Screenshots go to tmp/screenshots/console/.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { type Browser, type BrowserContext, type Locator, type Page, chromium } from 'playwright-core';
import { importDatabase } from '../../src/cli/import.ts';
import { ApiClient } from '../../src/remote/http-client.ts';
import { encodePageBatch } from '../../src/replication/page-batch.ts';
import { DEV_TOKEN, type DevServer, devFetch, startDevServer } from '../helpers/dev-server.ts';
import { CHROMIUM } from './range-readers.ts';
import { changedPages } from './workload.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const SCREENSHOTS = path.join(REPO, 'tmp/screenshots/console');
const PAGE_SIZE = 4096;
const ROWS_SQL = 'SELECT id, name, qty FROM items ORDER BY id';

/** `shop`'s history: the first is imported (TXID 1), each next one is a POST …/tx (TXIDs 2, 3, 4). */
const STEPS = [
  `PRAGMA page_size = ${PAGE_SIZE}; PRAGMA journal_mode = DELETE;
   CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER);
   INSERT INTO items VALUES (1, 'apple', 3), (2, 'pear', 5), (3, 'plum', 7);`,
  `UPDATE items SET qty = 6 WHERE id = 2; INSERT INTO items VALUES (4, 'fig', NULL);`,
  `DELETE FROM items WHERE id = 3; INSERT INTO items VALUES (5, 'kiwi', 9);`,
  `INSERT INTO items VALUES (6, 'lime', 1);`,
];

const txid = (n: number): string => n.toString(16).padStart(16, '0');

/** Each version's file bytes and its rows as the console prints them (NULL for null). */
function buildVersions(dir: string): { bytes: Uint8Array; cells: string[][] }[] {
  const file = path.join(dir, 'shop.db');
  return STEPS.map((sql) => {
    const db = new DatabaseSync(file);
    db.exec(sql);
    const rows = db.prepare(ROWS_SQL).all() as Record<string, unknown>[];
    db.close();
    return { bytes: readFileSync(file), cells: rows.map((r) => Object.values(r).map((v) => (v === null ? 'NULL' : String(v)))) };
  });
}

async function api<T>(server: DevServer, p: string, init: RequestInit = {}): Promise<T> {
  const res = await devFetch(server, p, init);
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${p}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

/** Writes version `to` of shop over version `to - 1` (the head) with one POST …/tx. */
async function pushVersion(server: DevServer, versions: { bytes: Uint8Array }[], to: number): Promise<string> {
  const { pages, commit } = changedPages(versions[to - 1].bytes, versions[to].bytes, PAGE_SIZE);
  const body = encodePageBatch(pages);
  const r = await api<{ pos: { txid: string } }>(server, `/v1/databases/shop/tx?base=${txid(to)}&commit=${commit}`, {
    method: 'POST',
    body,
  });
  return r.pos.txid;
}

/** Rows of a query through the API, as JSON. */
async function apiRows(server: DevServer, point: { txid?: string } = {}): Promise<string> {
  const r = await api<{ rows: unknown[][] }>(server, '/v1/databases/shop/query', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sql: ROWS_SQL, ...point }),
  });
  return JSON.stringify(r.rows);
}

/** The body cells of the query result table. */
async function resultCells(page: Page): Promise<string[][]> {
  const rows = page.getByRole('table', { name: 'Query result' }).locator('tbody tr');
  const out: string[][] = [];
  for (let i = 0, n = await rows.count(); i < n; i++) out.push(await rows.nth(i).locator('td').allTextContents());
  return out;
}

function sameCells(got: string[][], want: string[][], what: string): void {
  if (JSON.stringify(got) !== JSON.stringify(want))
    throw new Error(`${what}: table shows ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
}

/** Waits until the page's head TXID reads `want`. */
async function waitHead(page: Page, want: string): Promise<void> {
  await page
    .locator('#head-txid')
    .filter({ hasText: new RegExp(`^${want}$`) })
    .waitFor();
}

async function isFocused(target: Locator): Promise<boolean> {
  return target.evaluate((el) => el === el.ownerDocument.activeElement);
}

/** Presses Tab until `target` has the focus; fails after 40 presses. */
async function tabTo(page: Page, target: Locator): Promise<void> {
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press('Tab');
    if (await isFocused(target)) return;
  }
  throw new Error(`Tab never reached ${target}`);
}

const checks: string[] = [];
const failures: string[] = [];
const started = Date.now();
/** Console errors the next step causes on purpose (a refused token logs its 401). */
const expectedConsole: RegExp[] = [];

async function check(name: string, fn: () => Promise<void>): Promise<void> {
  await fn();
  checks.push(name);
  console.log(`  ok  ${name}`);
}

/** A context whose console messages, page errors and requests are watched. */
async function watchedContext(
  browser: Browser,
  origin: string,
  opts: Parameters<Browser['newContext']>[0] = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ acceptDownloads: true, ...opts });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  page.on('console', (m) => {
    if (m.type() !== 'error' && m.type() !== 'warning') return;
    const i = expectedConsole.findIndex((re) => re.test(m.text()));
    if (i >= 0) expectedConsole.splice(i, 1);
    else failures.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => failures.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (url.protocol !== 'data:' && url.origin !== origin) failures.push(`request to another origin: ${r.url()}`);
    if (r.url().includes(DEV_TOKEN)) failures.push(`the token is in a URL: ${r.url()}`);
  });
  return { context, page };
}

let server: DevServer | undefined;
let browser: Browser | undefined;
const dir = mkdtempSync(path.join(tmpdir(), 'ltx-edge-console-'));
try {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const versions = buildVersions(dir);
  server = await startDevServer();
  const s = server;
  const client = new ApiClient({ url: s.url, token: DEV_TOKEN }, { retries: 2 });
  writeFileSync(path.join(dir, 'v1.db'), versions[0].bytes);
  await importDatabase(client, 'shop', path.join(dir, 'v1.db'), { progress: false });
  await importDatabase(client, 'other', path.join(dir, 'v1.db'), { progress: false });
  for (const to of [1, 2]) await pushVersion(s, versions, to);
  console.log(`platform ${s.url}: shop at TXID 3, other at TXID 1`);

  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  const { context, page } = await watchedContext(browser, s.url, { permissions: ['clipboard-read', 'clipboard-write'] });
  const shot = (name: string) => page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });

  await check('a wrong token is refused with 401 UNAUTHORIZED in an alert', async () => {
    await page.goto(`${s.url}/ui/`);
    await shot('sign-in');
    expectedConsole.push(/status of 401/);
    await page.getByLabel('Token').fill('not-the-token');
    await page.getByLabel('Token').press('Enter');
    await page.getByRole('alert').filter({ hasText: 'That token was refused (401 UNAUTHORIZED):' }).waitFor();
  });

  await check('Enter in Token signs in; the list links each database by its name', async () => {
    await page.getByLabel('Token').fill(DEV_TOKEN);
    await page.getByLabel('Token').press('Enter');
    await page.getByRole('link', { name: 'shop', exact: true }).waitFor();
    await page.getByRole('link', { name: 'other', exact: true }).waitFor();
    if (!(await isFocused(page.getByRole('heading', { name: 'Databases' })))) throw new Error('focus did not move to the heading');
    const stored = await page.evaluate(() => ({ session: sessionStorage.length, local: localStorage.length }));
    if (stored.session !== 1 || stored.local !== 0 || (await context.cookies()).length > 0)
      throw new Error(`token storage: ${JSON.stringify(stored)}`);
    await shot('databases');
  });

  await check('Filter asks the server for a name prefix', async () => {
    await page.getByLabel('Filter').fill('sh');
    await page.getByRole('link', { name: 'other', exact: true }).waitFor({ state: 'detached' });
    await page.getByRole('link', { name: 'shop', exact: true }).waitFor();
  });

  await check('opening shop shows its head, timeline and tables', async () => {
    await page.getByRole('link', { name: 'shop', exact: true }).click();
    await page.getByRole('heading', { name: 'shop', level: 2 }).waitFor();
    await waitHead(page, txid(3));
    await page.getByRole('img', { name: /^Timeline of shop/ }).waitFor();
    await page.getByRole('button', { name: 'items', exact: true }).waitFor();
  });

  await check('Time picks the state at that moment; the slider and the timeline set the point', async () => {
    // The whole second after TXID 3's commit (datetime-local has seconds): the server resolves it to TXID 3.
    const files = (await api<{ files: { timestamp: string }[] }>(s, '/v1/databases/shop/ltx?level=0')).files;
    const d = new Date(Math.floor(Date.parse(files[files.length - 1].timestamp) / 1000) * 1000 + 1000);
    const pad = (n: number) => String(n).padStart(2, '0');
    const local = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
    const at = d.toISOString();
    await page.getByLabel('Time', { exact: true }).fill(local);
    await page.getByText(`Reading at TXID ${txid(3)}, the state at ${at}.`).waitFor();
    const txidField = page.getByLabel('TXID', { exact: true });
    await page.getByLabel('Point', { exact: true }).focus();
    await page.keyboard.press('Home');
    // Page-side expressions are strings: this file is typechecked without the DOM library.
    await page.waitForFunction(`document.getElementById('txid').value === '${txid(1)}'`);
    const box = (await page.getByRole('img', { name: /^Timeline of shop/ }).boundingBox())!;
    await page.mouse.click(box.x + box.width - 3, box.y + 5);
    if ((await txidField.inputValue()) !== txid(3)) throw new Error(`a click at the right end selected ${await txidField.inputValue()}`);
  });

  for (const n of [1, 3]) {
    await check(`SQL at TXID ${n} shows that version's rows in the table`, async () => {
      await page.getByLabel('TXID', { exact: true }).fill(String(n));
      await page.getByLabel('TXID', { exact: true }).press('Enter');
      await page.getByLabel('SQL').fill(ROWS_SQL);
      await page.getByRole('button', { name: 'Run' }).click();
      await page.getByText(new RegExp(`^at TXID ${txid(n)} · ${versions[n - 1].cells.length} rows`)).waitFor();
      sameCells(await resultCells(page), versions[n - 1].cells, `TXID ${n}`);
    });
  }
  await shot('database');

  await check('an SQL error is shown as CODE: message and clears the result', async () => {
    expectedConsole.push(/status of 400/);
    await page.getByLabel('SQL').fill('SELECT * FROM nope');
    await page.getByLabel('SQL').press('Control+Enter');
    await page.getByRole('alert').filter({ hasText: 'SQL_ERROR: no such table: nope' }).waitFor();
    if (await page.getByRole('table', { name: 'Query result' }).count()) throw new Error('the previous result is still shown');
  });

  await check('the tables browser fills the editor with SELECT * … LIMIT 100 and runs it', async () => {
    await page.getByRole('button', { name: 'items', exact: true }).click();
    await page.getByText(/^at TXID 0000000000000003 · 4 rows/).waitFor();
    if ((await page.getByLabel('SQL').inputValue()) !== 'SELECT * FROM "items" LIMIT 100')
      throw new Error('the editor holds something else');
    await page.getByRole('button', { name: 'Count rows' }).click();
    await page
      .getByRole('table', { name: 'Tables' })
      .getByRole('row', { name: /^items table .* 4$/ })
      .waitFor();
  });

  await check('What changed from TXID 1 to 3: pages, and 2 added, 1 removed, 1 changed rows', async () => {
    await page.getByLabel('From TXID', { exact: true }).fill('1');
    await page.getByLabel('To TXID', { exact: true }).fill('3');
    await page.getByRole('button', { name: 'Compare' }).click();
    await page.getByText('items: 2 added, 1 removed, 1 changed').waitFor();
    await page.getByText(/^Pages changed after 0000000000000001 up to 0000000000000003: \d+ pages?/).waitFor();
  });

  await check('a commit pushed from Node moves the head on the page (watch stream)', async () => {
    await page.locator('.live-status', { hasText: '(live)' }).waitFor();
    await pushVersion(s, versions, 3);
    await waitHead(page, txid(4));
  });

  await check('Download database at TXID 2 saves exactly the snapshot route’s bytes', async () => {
    await page.getByLabel('TXID', { exact: true }).fill('2');
    await page.getByLabel('TXID', { exact: true }).press('Enter');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download database' }).click()]);
    const got = readFileSync((await download.path())!);
    const want = new Uint8Array(await (await devFetch(s, `/v1/databases/shop/snapshot?format=sqlite&txid=${txid(2)}`)).arrayBuffer());
    if (download.suggestedFilename() !== `shop-${txid(2)}.db`) throw new Error(`file name ${download.suggestedFilename()}`);
    if (!Buffer.from(want).equals(got)) throw new Error(`downloaded ${got.length} bytes differ from the snapshot's ${want.length}`);
  });

  await check('Create read link shows the link and its expiry; Copy puts it on the clipboard', async () => {
    await page.getByRole('button', { name: 'Create read link' }).click();
    const url = await page.getByLabel('Read link', { exact: true }).inputValue();
    if (!url.startsWith(`${s.url}/v1/links/shop/`)) throw new Error(`read link ${url}`);
    await page.getByRole('button', { name: 'Copy' }).click();
    await page.getByText('Copied.').waitFor();
    if ((await page.evaluate('navigator.clipboard.readText()')) !== url) throw new Error('the clipboard holds something else');
  });

  const beforeRestore = await apiRows(s);
  await check('Restore: Escape cancels; confirming writes TXID 1’s state as TXID 5', async () => {
    await page.getByLabel('TXID', { exact: true }).fill('1');
    await page.getByLabel('TXID', { exact: true }).press('Enter');
    await page.getByRole('button', { name: 'Restore to this point' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText(`Write the state of shop at TXID ${txid(1)} as a new transaction after the head ${txid(4)}.`).waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await page.getByRole('button', { name: 'Restore to this point' }).click();
    await dialog.getByRole('button', { name: 'Restore' }).click();
    await page.getByText('is the new head').waitFor();
    await waitHead(page, txid(5));
    if ((await apiRows(s)) !== (await apiRows(s, { txid: txid(1) }))) throw new Error('the head is not TXID 1’s state');
    await shot('restored');
  });

  await check('Undo restores the pre-restore head’s state as TXID 6', async () => {
    await page.getByRole('button', { name: 'Undo' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Restore' }).click();
    await waitHead(page, txid(6));
    if ((await apiRows(s)) !== beforeRestore) throw new Error('the head is not the state before the restore');
  });

  await check('the API calls panel lists the endpoints and this page’s calls, never the token', async () => {
    await page.getByText(/^API calls \(\d+\)$/).click();
    const panel = page.locator('details.api-panel');
    await panel.getByRole('cell', { name: '/v1/databases/:db/watch', exact: true }).waitFor();
    await panel
      .getByRole('row', { name: /^POST \/v1\/databases\/shop\/restore 201 \d+ ms$/ })
      .first()
      .waitFor();
    if ((await panel.textContent())?.includes(DEV_TOKEN)) throw new Error('the panel shows the token');
  });

  await check('a reload keeps the session; Sign out forgets the token', async () => {
    await page.reload();
    await page.getByRole('heading', { name: 'shop', level: 2 }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Token').waitFor();
    if ((await page.evaluate(() => sessionStorage.length)) !== 0) throw new Error('sessionStorage still holds the token');
  });
  await context.close();

  const keyboard = await watchedContext(browser, s.url, { colorScheme: 'dark' });
  await check('keyboard only (dark scheme): sign in → open shop → TXID → SQL → Run', async () => {
    const k = keyboard.page;
    await k.goto(`${s.url}/ui/`);
    if (!(await isFocused(k.getByLabel('Token')))) throw new Error('Token is not focused on load');
    await k.keyboard.type(DEV_TOKEN);
    await k.keyboard.press('Enter');
    await k.getByRole('link', { name: 'shop', exact: true }).waitFor();
    await tabTo(k, k.getByRole('link', { name: 'shop', exact: true }));
    await k.keyboard.press('Enter');
    await k.getByRole('heading', { name: 'shop', level: 2 }).waitFor();
    await tabTo(k, k.getByLabel('TXID', { exact: true }));
    await k.keyboard.type('3');
    await tabTo(k, k.getByLabel('SQL'));
    await k.keyboard.press('Control+A');
    await k.keyboard.type(ROWS_SQL);
    await tabTo(k, k.getByRole('button', { name: 'Run' }));
    await k.keyboard.press('Enter');
    await k.getByText(new RegExp(`^at TXID ${txid(3)} · 4 rows`)).waitFor();
    sameCells(await resultCells(k), versions[2].cells, 'keyboard, TXID 3');
    await k.screenshot({ path: path.join(SCREENSHOTS, 'keyboard-dark.png'), fullPage: true });
  });
  await keyboard.context.close();
} catch (e) {
  failures.push(`${(e as Error).stack ?? e}`);
  if (server) console.log(`--- wrangler output (end) ---\n${server.log().slice(-2000)}`);
} finally {
  await browser?.close().catch(() => undefined);
  await server?.stop().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}

console.log(
  `\n${failures.length === 0 ? 'ok' : 'FAILED'}: ${checks.length} checks passed in ${((Date.now() - started) / 1000).toFixed(1)} s; screenshots in ${path.relative(REPO, SCREENSHOTS)}/`,
);
for (const f of failures) console.log(`  - ${f}`);
process.exitCode = failures.length === 0 ? 0 : 1;
