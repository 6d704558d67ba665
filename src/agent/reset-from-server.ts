// `replicate --reset-from-server`: the local database takes the server's head, written through SQLite's backup API.

import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { DatabaseSync, backup } from 'node:sqlite';
import type { ApiClient } from '../remote/http-client.ts';
import { restoreDatabase } from '../remote/restore.ts';
import { formatTXID } from '../ltx/index.ts';
import { AgentError } from './agent-error.ts';
import { type Pos, type SavedSums, stateDir } from './agent-state.ts';
import { scanDatabase, withPrivateMainFile } from './local-pages.ts';

/**
 * Downloads the server's state at `server`, checks its checksum, and copies it over `file` with
 * SQLite's backup (safe beside the application's connections: it takes SQLite's locks). Returns the
 * server state's page checksums, the base the next push diffs against (the backup rewrites page 1's
 * counters, so that push carries a page or two).
 */
export async function resetToServer(client: ApiClient, db: string, file: string, server: Pos): Promise<SavedSums> {
  const tmp = path.join(stateDir(file), 'server.db');
  await mkdir(stateDir(file), { recursive: true });
  await restoreDatabase(client, db, tmp, { txid: formatTXID(server.txid), force: true });
  try {
    const scan = await withPrivateMainFile(tmp, scanDatabase);
    if (scan.checksum !== server.checksum) {
      throw new AgentError('DIVERGED', `the download of ${db} at TXID ${formatTXID(server.txid)} does not have the server's checksum`);
    }
    const source = new DatabaseSync(tmp, { readOnly: true });
    try {
      await backup(source, file);
    } finally {
      source.close();
    }
    return { pos: server, pageSize: scan.pageSize, commit: scan.commit, sums: scan.sums };
  } finally {
    await rm(tmp, { force: true });
  }
}
