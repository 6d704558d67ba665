// The server's listings page after page: every database a token may read (GET /v1/databases) and a level's LTX files (GET …/ltx).

import type { DatabaseEntryJSON, LtxFileJSON } from '../api/wire.ts';
import { formatTXID } from '../ltx/index.ts';
import type { ApiClient } from './http-client.ts';

/** Entries per page of the server's listings (its `limit` default). */
const LIST_PAGE = 1000;

/** Every database the token may see, in name order. */
export async function listDatabases(client: ApiClient): Promise<DatabaseEntryJSON[]> {
  const all: DatabaseEntryJSON[] = [];
  for (let after = ''; ; ) {
    const query = after ? `?after=${encodeURIComponent(after)}` : '';
    const { body } = await client.json<{ databases: DatabaseEntryJSON[]; next?: string }>('GET', `/v1/databases${query}`);
    all.push(...body.databases);
    if (!body.next) return all;
    after = body.next;
  }
}

/** The LTX files of `db` at `level`, by MinTXID. */
export async function listFiles(client: ApiClient, db: string, level: number): Promise<LtxFileJSON[]> {
  const all: LtxFileJSON[] = [];
  for (let after = 0n; ; ) {
    const path = `/v1/databases/${encodeURIComponent(db)}/ltx?after=${formatTXID(after)}&level=${level}`;
    const { body } = await client.json<{ files: LtxFileJSON[] }>('GET', path);
    all.push(...body.files);
    if (body.files.length < LIST_PAGE) return all;
    after = BigInt('0x' + body.files[body.files.length - 1].minTXID);
  }
}
