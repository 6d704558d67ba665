// One push of a batch to the server: the LTX stream out, and the answer read as landed, already landed, or refused for good.

import { type ApiClient, ApiClientError } from '../remote/http-client.ts';
import { batchedByteStream, counted } from '../remote/byte-streams.ts';
import { AgentError } from './agent-error.ts';
import { type Pos, formatPos, parsePos, samePos } from './agent-state.ts';
import { type Batch, encodeBatch } from './batch.ts';
import type { DatabaseHold } from './database-hold.ts';

/**
 * Sends `batch` as the LTX file that takes the server to `target` (retried by the client on network
 * errors and 5xx). A snapshot's checksum is the server's to say: `target.checksum` is set from its answer.
 * A 409 at `target` is a push that had landed and whose answer was lost; SERVER_AHEAD at any other
 * position; REJECTED for other 4xx (429 excepted) and for an answer at another position.
 */
export async function pushBatch(
  client: ApiClient,
  db: string,
  hold: DatabaseHold,
  batch: Batch,
  target: Pos,
): Promise<{ status: number; bytes: number }> {
  let bytes = 0;
  try {
    const r = await client.pushLTX(db, () => {
      bytes = 0;
      return batchedByteStream(counted(encodeBatch(hold, batch), (n) => (bytes += n)));
    });
    const pos = parsePos(r.pos);
    if (!pos || pos.txid !== target.txid || (batch.reason !== 'snapshot' && pos.checksum !== target.checksum)) {
      throw new AgentError('REJECTED', `the server answered TXID ${r.pos.txid} to a push of TXID ${formatPos(target).txid}`);
    }
    target.checksum = pos.checksum;
    return { status: r.status, bytes };
  } catch (e) {
    if (e instanceof ApiClientError && e.status === 409) {
      if (samePos(parsePos(e.details?.pos), target)) return { status: 200, bytes };
      throw new AgentError(
        'SERVER_AHEAD',
        `${db} moved on the server while this agent pushed (${e.message})`,
        { pos: e.details?.pos },
        { cause: e },
      );
    }
    if (e instanceof ApiClientError && e.status >= 400 && e.status < 500 && e.status !== 429) {
      throw new AgentError('REJECTED', `the server refused TXID ${formatPos(target).txid}: ${e.code}: ${e.message}`, e.details, {
        cause: e,
      });
    }
    throw e;
  }
}
