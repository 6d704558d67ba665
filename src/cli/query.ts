// `ltx-edge query <url> <db> "<sql>" [--txid|--at] [--params JSON] [--json]`: one read-only statement on the server, printed as a table.

import { EXIT_OK, UsageError, parseCommandArgs } from './cli-errors.ts';
import { type CliIO, printJSON } from './cli-io.ts';
import type { Command } from './command.ts';
import type { ApiClient } from '../remote/http-client.ts';
import { resolveClientConfig } from './remote-cli.ts';
import { REMOTE_OPTIONS, REMOTE_OPTIONS_USAGE, cliClient, describeRemoteError, reportRemoteFailure } from './remote-cli.ts';

export const QUERY_USAGE = `Usage: ltx-edge query <url> <db> "<sql>" [--txid HEX | --at TIME] [--min-txid HEX] [--params JSON] [--token T] [--json]

Runs one read-only SQL statement on database <db> on the server (POST /v1/databases/<db>/query) at the
head, right after TXID HEX (--txid), or as of TIME (--at: RFC3339 or "5 minutes ago"), and prints the
rows as a table (the TXID read and the cost on stderr). Writes and several statements are refused.

  --txid HEX      the TXID to read at (1–16 hex digits)
  --at TIME       the point in time to read at (the last TXID committed by then)
  --min-txid HEX  wait (briefly) until the head has reached this TXID (read-your-writes)
  --params JSON   statement parameters: a JSON array for ? / ?NNN, an object for :name / @name / $name;
                  values: null, booleans, numbers, strings, {"base64": "…"} (blob), {"integer": "…"} (64-bit)
  --max-width N   widest column in the table, characters (default 60; 0 = no limit)
${REMOTE_OPTIONS_USAGE}

With --json the server's answer is printed as is: {"columns", "rows", "pos", "stats"}; integers beyond
2^53 are strings, blobs {"base64": "…"}.`;

/** The server's answer (see src/routes/query.ts QueryResponse). */
export interface QueryAnswer {
  columns: string[];
  rows: unknown[][];
  pos: { txid: string; postApplyChecksum: string };
  stats: Record<string, number>;
}

export interface QueryPoint {
  txid?: string;
  at?: string;
  minTXID?: string;
}

/** POSTs the statement; the request is read-only, so network errors and 5xx are retried. */
export async function runRemoteQuery(
  client: ApiClient,
  db: string,
  sql: string,
  params: unknown,
  point: QueryPoint = {},
): Promise<QueryAnswer> {
  const body: Record<string, unknown> = { sql };
  if (params !== undefined) body.params = params;
  if (point.txid !== undefined) body.txid = point.txid;
  if (point.at !== undefined) body.at = point.at;
  if (point.minTXID !== undefined) body.min_txid = point.minTXID;
  const text = JSON.stringify(body);
  const { body: answer } = await client.json<QueryAnswer>('POST', `/v1/databases/${encodeURIComponent(db)}/query`, {
    body: () => text,
    headers: { 'content-type': 'application/json' },
    retry: true,
  });
  return answer;
}

/** A value as a table cell: NULL, a blob's size, numbers and text as they are (newlines shown as ⏎). */
export function formatCell(v: unknown): string {
  if (v === null) return 'NULL';
  if (typeof v === 'object') {
    const b64 = (v as { base64?: unknown }).base64;
    if (typeof b64 === 'string') return `<blob ${Math.floor((b64.replace(/=+$/, '').length * 3) / 4)} B>`;
    return JSON.stringify(v);
  }
  return String(v).replace(/\r?\n/g, '⏎');
}

/** The rows as an aligned text table (numbers right-aligned), cells cut at `maxWidth` characters with "…". */
export function formatTable(columns: string[], rows: unknown[][], maxWidth = 60): string {
  const cut = (s: string): string => (maxWidth > 0 && s.length > maxWidth ? s.slice(0, Math.max(1, maxWidth - 1)) + '…' : s);
  const cells = rows.map((r) => r.map((v) => cut(formatCell(v))));
  const heads = columns.map(cut);
  const widths = heads.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i].length)));
  const numeric = columns.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number' || r[i] === null));
  const line = (r: string[]): string =>
    r
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(heads), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

/** 1–16 hex digits, not 0 → 16 lowercase hex digits. */
function parseTXIDOption(flag: string, text: string): string {
  if (!/^[0-9a-fA-F]{1,16}$/.test(text) || /^0+$/.test(text)) {
    throw new UsageError(`${flag} must be 1 to 16 hex digits and not 0, got ${JSON.stringify(text.slice(0, 40))}`, QUERY_USAGE);
  }
  return text.toLowerCase().padStart(16, '0');
}

function parseParams(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--params is not JSON: ${(e as Error).message}`, QUERY_USAGE);
  }
  if (typeof v !== 'object' || v === null) throw new UsageError('--params must be a JSON array or object', QUERY_USAGE);
  return v;
}

export const queryCommand: Command = {
  name: 'query',
  synopsis: [['query <url> <db> "<sql>" [--txid HEX | --at TIME] [--json]', 'run a read-only SQL statement on the server']],
  async run(args: string[], io: CliIO): Promise<number> {
    const { values, positionals } = parseCommandArgs(
      args,
      {
        ...REMOTE_OPTIONS,
        txid: { type: 'string' },
        at: { type: 'string' },
        'min-txid': { type: 'string' },
        params: { type: 'string' },
        'max-width': { type: 'string' },
      },
      QUERY_USAGE,
    );
    if (values.help) {
      await io.out(QUERY_USAGE + '\n');
      return EXIT_OK;
    }
    const { config, rest } = resolveClientConfig(positionals, values, QUERY_USAGE);
    if (rest.length !== 2) throw new UsageError('query needs <db> and "<sql>"', QUERY_USAGE);
    const [db, sql] = rest;
    if (sql.trim() === '') throw new UsageError('the SQL is empty', QUERY_USAGE);
    if (values.txid !== undefined && values.at !== undefined) throw new UsageError('give --txid or --at, not both', QUERY_USAGE);
    if (values.at !== undefined && values.at.trim() === '') throw new UsageError('--at must not be empty', QUERY_USAGE);
    const maxWidth = values['max-width'] === undefined ? 60 : Number(values['max-width']);
    if (!Number.isInteger(maxWidth) || maxWidth < 0) throw new UsageError('--max-width must be a whole number ≥ 0', QUERY_USAGE);
    const point: QueryPoint = {
      txid: values.txid !== undefined ? parseTXIDOption('--txid', values.txid) : undefined,
      at: values.at,
      minTXID: values['min-txid'] !== undefined ? parseTXIDOption('--min-txid', values['min-txid']) : undefined,
    };
    const params = parseParams(values.params);
    const json = values.json === true;

    let answer: QueryAnswer;
    try {
      answer = await runRemoteQuery(cliClient(config, io), db, sql, params, point);
    } catch (e) {
      const info = describeRemoteError(e);
      return reportRemoteFailure(io, info, json, { hint: hintFor(info.code, info.details, sql) });
    }
    if (json) {
      await printJSON(io, answer);
      return EXIT_OK;
    }
    await io.out(formatTable(answer.columns, answer.rows, maxWidth) + '\n');
    const s = answer.stats;
    await io.err(
      `${answer.rows.length} row${answer.rows.length === 1 ? '' : 's'} at TXID ${answer.pos.txid} ` +
        `(${s.pagesRead} pages read, ${s.r2Reads} R2 reads, ${s.fetchRounds} fetch rounds, ${s.ms} ms)\n`,
    );
    return EXIT_OK;
  },
};

/** One line of advice for the failures a user can act on. */
function hintFor(code: string, details: Record<string, unknown> | undefined, sql: string): string | undefined {
  switch (code) {
    case 'SQL_ERROR': {
      const at = typeof details?.offset === 'number' ? details.offset : undefined;
      if (at === undefined) return undefined;
      const bytes = new TextEncoder().encode(sql);
      const before = new TextDecoder().decode(bytes.subarray(Math.max(0, at - 30), at)).replace(/\s+/g, ' ');
      const after = new TextDecoder().decode(bytes.subarray(at, at + 30)).replace(/\s+/g, ' ');
      return `near: ${before}⟦${after}`;
    }
    case 'QUERY_NOT_READ_ONLY':
      return 'only SELECT (and other read-only statements) are served; write through push, import or replicate';
    case 'MULTIPLE_STATEMENTS':
      return 'send one statement per query';
    case 'QUERY_TOO_MANY_ROWS':
    case 'QUERY_RESULT_TOO_LARGE':
      return 'narrow the query (WHERE, LIMIT/OFFSET, fewer columns)';
    case 'NOT_YET_AVAILABLE': {
      const pos = details?.pos as { txid?: string } | undefined;
      return pos?.txid ? `the database is at TXID ${pos.txid}` : undefined;
    }
    case 'UNAUTHORIZED':
      return 'give a token with --token or $LTX_EDGE_TOKEN';
    case 'FORBIDDEN':
      return 'the token needs the read scope for this database';
    default:
      return undefined;
  }
}
