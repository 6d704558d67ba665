// Before a push is sent: the server's own header rule (decideIngest) against the head we know, so a file
// refused on its header alone is not uploaded at all.
//
// Why not just let the server answer: it answers such a refusal before reading the body, and a local
// wrangler dev then resets the connection while a large body is still being sent, so the client gets
// ECONNRESET or an empty 409 instead of {"error": …}. Saving a useless multi-GB upload is the other gain.
// The server stays the authority: anything this cannot decide (a possible re-push) is sent.

import { open } from 'node:fs/promises';
import { HEADER_SIZE, type Header, LTXError, decodeHeader, formatHex64, parseHex64, formatTXID } from '../ltx/index.ts';
import { type Head, decideIngest } from '../replication/ingest-rules.ts';
import { CliError } from './cli-errors.ts';
import type { DatabaseInfoJSON, PosJSON } from '../api/wire.ts';

/** A push the server would refuse from the header: same code and details as its answer would carry. */
export class PreflightRefusal extends CliError {
  readonly details: Record<string, unknown>;

  constructor(code: 'POSITION_MISMATCH' | 'PAGE_SIZE_MISMATCH' | 'INVALID_LTX', message: string, details: Record<string, unknown>) {
    super(code, message);
    this.name = 'PreflightRefusal';
    this.details = details;
  }
}

/** The head from GET /v1/databases/:db (undefined: no database, or nothing committed yet). */
export function headFromInfo(info: DatabaseInfoJSON | undefined): Head | undefined {
  if (!info) return undefined;
  const head = headFromPush(info.pos, info.pageSize);
  return head.txid === 0n ? undefined : head;
}

/** The head after a successful push of a file with `pageSize`. */
export function headFromPush(pos: PosJSON, pageSize: number): Head {
  return { txid: hex64(pos.txid), checksum: hex64(pos.postApplyChecksum), pageSize };
}

function hex64(s: string): bigint {
  const v = parseHex64(s);
  if (v === undefined) throw new CliError('BAD_RESPONSE', `the server sent an invalid position value: ${JSON.stringify(s)}`);
  return v;
}

/** The first HEADER_SIZE bytes of `file`, decoded; a bad header is a PreflightRefusal INVALID_LTX (as the server says). */
export async function readLTXHeader(file: string): Promise<Header> {
  const fh = await open(file, 'r');
  try {
    const bytes = new Uint8Array(HEADER_SIZE);
    const { bytesRead } = await fh.read(bytes, 0, HEADER_SIZE, 0);
    return decodeHeader(bytes.subarray(0, bytesRead));
  } catch (e) {
    if (e instanceof LTXError) throw new PreflightRefusal('INVALID_LTX', e.message, { ltxCode: e.code });
    throw e;
  } finally {
    await fh.close();
  }
}

/** Committed files are unknown here; a file at or behind the head goes to the server, which compares bytes. */
const UNKNOWN_FILE = { size: -1, fileChecksum: -1n };

/** Throws PreflightRefusal when the server would refuse `header` at `head` without reading further. */
export function preflight(head: Head | undefined, header: Header): void {
  const decision = decideIngest(head, header, () => UNKNOWN_FILE);
  const pos = head ? { txid: formatTXID(head.txid), postApplyChecksum: formatHex64(head.checksum) } : ZERO_POS;
  if (decision.kind === 'mismatch') throw new PreflightRefusal('POSITION_MISMATCH', decision.reason, { pos });
  if (decision.kind === 'page-size') {
    throw new PreflightRefusal('PAGE_SIZE_MISMATCH', `page size ${header.pageSize}, database has ${decision.expected}`, {
      pageSize: decision.expected,
    });
  }
}

const ZERO_POS: PosJSON = { txid: '0000000000000000', postApplyChecksum: '0000000000000000' };
