// Page side of the browser range-reader test: opens a URL with one third-party HTTP-range SQLite reader, runs one query, returns rows as arrays.
// Plain JS on purpose: the repository's tsconfig type-checks test/ without DOM types; esbuild bundles this file with both readers.

import { createDbWorker } from 'sql.js-httpvfs';
import { createHttpBackend, createSQLiteThread } from 'sqlite-wasm-http';

/** sql.js-httpvfs 0.8.12 (phiresky): sql.js in a worker over a lazy file of `requestChunkSize` chunks fetched with sync XHR. */
async function sqlJsHttpvfs(url, sql) {
  const assets = new URL('/sqljs/', location.href).href;
  const config = { from: 'inline', config: { serverMode: 'full', url, requestChunkSize: 4096 } };
  const worker = await createDbWorker([config], assets + 'sqlite.worker.js', assets + 'sql-wasm.wasm');
  const results = await worker.db.exec(sql);
  const stats = await worker.worker.getStats();
  return {
    rows: results.length === 0 ? [] : results[0].values,
    stats: { requests: stats.totalRequests, bytes: stats.totalFetchedBytes, fileBytes: stats.totalBytes },
  };
}

/** sqlite-wasm-http 1.2.0 (mmomtchev): the official SQLite WASM build with an `http` VFS; the sync backend (no SharedArrayBuffer needed). */
async function sqliteWasmHttp(url, sql) {
  const backend = createHttpBackend({ backendType: 'sync', maxPageSize: 65536, timeout: 20000, cacheSize: 4096 });
  const db = await createSQLiteThread({ http: backend });
  try {
    await db('open', { filename: 'file:' + encodeURI(url), vfs: 'http' });
    const rows = [];
    await db('exec', {
      sql,
      rowMode: 'array',
      callback: (msg) => {
        if (msg.row) rows.push(msg.row);
      },
    });
    await db('close', {});
    return { rows, stats: null };
  } finally {
    db.close();
    await backend.close();
  }
}

const READERS = { 'sql.js-httpvfs': sqlJsHttpvfs, 'sqlite-wasm-http': sqliteWasmHttp };

/** Entry point for the driver: `{rows, stats}` or `{error}`; a worker error message from either reader is passed on as text. */
globalThis.ltxRangeRead = async (reader, url, sql) => {
  try {
    return await READERS[reader](url, sql);
  } catch (e) {
    return { error: String(e?.result?.message ?? e?.message ?? e?.type ?? JSON.stringify(e)) };
  }
};

/** Status of a plain cross-origin GET of `url` with a Range header (the tampered-link check). */
globalThis.ltxFetchStatus = async (url) => {
  try {
    const res = await fetch(url, { headers: { Range: 'bytes=0-99' } });
    await res.arrayBuffer();
    return res.status;
  } catch (e) {
    return `network error: ${e.message}`;
  }
};

globalThis.ltxReady = true;
