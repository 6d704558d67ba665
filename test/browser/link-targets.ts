// Where the browser test's URLs come from: read links minted by the real local platform, or the stand-in range server; each with the file its answers are checked against.

import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { encodePageBatch } from '../../src/replication/page-batch.ts';
import { DEV_TOKEN, type DevServer, startDevServer } from '../helpers/dev-server.ts';
import { startRangeFileServer } from './range-file-server.ts';
import { type WorkloadFiles, changedPages } from './workload.ts';

/** One URL to open in the browser. */
export interface LinkTarget {
  /** e.g. `shop@0000000000000002`. */
  label: string;
  txid: string;
  url: string;
  /** The database file at that point, for the reference answers. */
  file: string;
}

export interface LinkTargets {
  kind: 'platform' | 'stand-in';
  links: LinkTarget[];
  /** A link with one character of its signature changed: must not be served. */
  tampered: string;
  /** Requests the server saw, where it can tell (the stand-in only). */
  served?: { requests: number; bytes: number };
  close(): Promise<void>;
}

const REPO = path.resolve(import.meta.dirname, '../..');
const PAGE_SIZE = 4096;

/**
 * The real thing: `wrangler dev` on a free port; `shop` imported from v1 with `ltx-edge import`, then
 * moved to v2 with one POST …/tx of the pages that differ; `walshop` imported from the WAL-mode file.
 * Links are minted at both TXIDs of `shop` and the head of `walshop`; each one's reference file is
 * downloaded from the snapshot route at the same TXID.
 */
export async function platformTargets(files: WorkloadFiles, dir: string): Promise<LinkTargets> {
  const server = await startDevServer();
  try {
    const txid1 = importFile(server, 'shop', files.v1);
    const { pages, commit } = changedPages(readFileSync(files.v1), readFileSync(files.v2), PAGE_SIZE);
    const tx = await api(server, `/v1/databases/shop/tx?base=${txid1}&commit=${commit}`, { method: 'POST', body: encodePageBatch(pages) });
    const txid2 = (tx as { pos: { txid: string } }).pos.txid;
    const walTxid = importFile(server, 'walshop', files.wal);
    const links: LinkTarget[] = [];
    for (const [db, txid] of [
      ['shop', txid1],
      ['shop', txid2],
      ['walshop', walTxid],
    ]) {
      const minted = (await api(server, `/v1/databases/${db}/links`, {
        method: 'POST',
        body: JSON.stringify({ txid, expiresIn: 600 }),
        headers: { 'content-type': 'application/json' },
      })) as { url: string; txid: string };
      const file = path.join(dir, `${db}-${txid}.snapshot.db`);
      const snapshot = await fetch(`${server.url}/v1/databases/${db}/snapshot?format=sqlite&txid=${txid}`, {
        headers: { authorization: `Bearer ${DEV_TOKEN}` },
      });
      if (snapshot.status !== 200) throw new Error(`snapshot of ${db}@${txid}: HTTP ${snapshot.status}`);
      writeFileSync(file, new Uint8Array(await snapshot.arrayBuffer()));
      links.push({ label: `${db}@${minted.txid}`, txid: minted.txid, url: minted.url, file });
    }
    return { kind: 'platform', links, tampered: tamper(links[0].url), close: () => server.stop() };
  } catch (e) {
    const log = server.log().slice(-3000);
    await server.stop();
    throw new Error(`${(e as Error).message}\n--- wrangler output (end) ---\n${log}`);
  }
}

/** The stand-in: the local files themselves, served with the links' Range/CORS behaviour. */
export async function standInTargets(files: WorkloadFiles): Promise<LinkTargets> {
  const server = await startRangeFileServer();
  const links = Object.entries({ 'shop@v1': files.v1, 'shop@v2': files.v2, 'walshop@wal': files.wal }).map(([label, file]) => {
    server.put(label, readFileSync(file));
    return { label, txid: label.split('@')[1], url: server.url(label), file };
  });
  return {
    kind: 'stand-in',
    links,
    tampered: tamper(links[0].url),
    get served() {
      return { requests: server.log.length, bytes: server.log.reduce((sum, r) => sum + r.bytes, 0) };
    },
    close: () => server.close(),
  };
}

/** `url` with one character changed in the middle of its last path segment's last dot-separated part (a link's MAC). */
export function tamper(url: string): string {
  const segment = url.lastIndexOf('/') + 1;
  const start = Math.max(segment, url.lastIndexOf('.') + 1);
  const at = start + Math.floor((url.length - start) / 2);
  return url.slice(0, at) + (url[at] === 'A' ? 'B' : 'A') + url.slice(at + 1);
}

/** `ltx-edge import` through the CLI, as a user would; returns the TXID. */
function importFile(server: DevServer, db: string, file: string): string {
  const out = execFileSync(process.execPath, [path.join(REPO, 'bin/ltx-edge.js'), 'import', server.url, db, file, '--json'], {
    cwd: REPO,
    env: { ...process.env, LTX_EDGE_TOKEN: DEV_TOKEN },
    encoding: 'utf8',
  });
  return (JSON.parse(out) as { pos: { txid: string } }).pos.txid;
}

/** A JSON API call with the dev token; throws with the answer on a non-2xx. */
async function api(server: DevServer, p: string, init: RequestInit): Promise<unknown> {
  const res = await fetch(server.url + p, {
    ...init,
    headers: { authorization: `Bearer ${DEV_TOKEN}`, 'content-type': 'application/octet-stream', ...init.headers },
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${p}: HTTP ${res.status} ${text.slice(0, 500)}`);
  return JSON.parse(text);
}
