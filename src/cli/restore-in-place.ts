// `ltx-edge restore --in-place`: the server writes a past state as the next transaction (POST …/restore).

import { EXIT_OK } from './cli-errors.ts';
import { type CliIO, printJSON } from './cli-io.ts';
import type { ApiClient } from '../remote/http-client.ts';
import { describeRemoteError, reportRemoteFailure } from './remote-cli.ts';

/**
 * `--in-place`: asks the server to write the state at the point as the next transaction
 * (POST …/restore, admin scope); nothing is downloaded and the history stays, so it can be undone
 * by restoring in place to the TXID before it.
 */
export async function restoreInPlace(
  client: ApiClient,
  io: CliIO,
  db: string,
  point: { txid: string } | { at: string | undefined },
  json: boolean,
  hint: (code: string, details: Record<string, unknown> | undefined) => string | undefined,
): Promise<number> {
  let body: { pos: { txid: string }; restoredFrom: string; pages: number };
  try {
    body = (
      await client.json<typeof body>('POST', `/v1/databases/${encodeURIComponent(db)}/restore`, {
        body: () => JSON.stringify(point),
        headers: { 'content-type': 'application/json' },
      })
    ).body;
  } catch (e) {
    const info = describeRemoteError(e);
    return reportRemoteFailure(io, info, json, { hint: hint(info.code, info.details) });
  }
  if (json) await printJSON(io, body);
  else {
    await io.out(
      `restored ${db} in place: the state of TXID ${body.restoredFrom} is now TXID ${body.pos.txid} ` +
        `(${body.pages} pages written; undo with --in-place --txid ${(BigInt('0x' + body.pos.txid) - 1n).toString(16).padStart(16, '0')})\n`,
    );
  }
  return EXIT_OK;
}
