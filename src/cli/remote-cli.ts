// What the commands that talk to a server share: their options, the client with retry notes, error reports.

import { CliError, EXIT_FAILURE, describeError } from './cli-errors.ts';
import { type CliIO, printJSON } from './cli-io.ts';
import { ApiClient, ApiClientError, type ClientConfig } from '../remote/http-client.ts';
import { UsageError } from './cli-errors.ts';

/** parseArgs options every remote command takes. */
/**
 * The server URL and token from flags, else LTX_EDGE_URL / LTX_EDGE_TOKEN (DESIGN §5). A URL given
 * as the first positional argument wins over both; it is taken off `positionals` when present.
 * Throws UsageError when there is no URL or it is not http(s).
 */
export function resolveClientConfig(
  positionals: string[],
  flags: { url?: string; token?: string },
  usage: string,
  env: NodeJS.ProcessEnv = process.env,
): { config: ClientConfig; rest: string[] } {
  let url: string | undefined;
  let rest = positionals;
  if (positionals.length > 0 && /^https?:\/\//i.test(positionals[0])) {
    url = positionals[0];
    rest = positionals.slice(1);
  } else {
    url = flags.url ?? env.LTX_EDGE_URL;
  }
  if (url === undefined || url === '') throw new UsageError('no server URL: give <url> or set LTX_EDGE_URL', usage);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`invalid server URL: ${url}`, usage);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new UsageError(`server URL must be http(s): ${url}`, usage);
  const token = flags.token ?? (env.LTX_EDGE_TOKEN || undefined);
  return { config: { url: parsed.href, token }, rest };
}

export const REMOTE_OPTIONS = {
  url: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Usage lines for REMOTE_OPTIONS. */
export const REMOTE_OPTIONS_USAGE = `  <url>        the server, e.g. http://localhost:8787 (or --url, or $LTX_EDGE_URL)
  --token T    bearer token (default $LTX_EDGE_TOKEN)
  --json       print the result as JSON on stdout`;

/** An ApiClient that notes each retry on stderr. */
export function cliClient(config: ClientConfig, io: CliIO): ApiClient {
  return new ApiClient(config, {
    onRetry: ({ attempt, attempts, delayMs, error }) => {
      void io.err(
        `ltx-edge: ${error.code} ${error.message}; retrying in ${(delayMs / 1000).toFixed(1)} s (attempt ${attempt + 1} of ${attempts})\n`,
      );
    },
  });
}

/** A failure of a remote command: the server's code, its HTTP status (0 = no answer) and details. */
export interface RemoteErrorInfo {
  code: string;
  message: string;
  status?: number;
  details?: Record<string, unknown>;
  file?: string;
}

/** ApiClientError keeps the server's code, status and details; anything else goes through describeError. */
export function describeRemoteError(e: unknown): RemoteErrorInfo {
  if (e instanceof ApiClientError) {
    const info: RemoteErrorInfo = { code: e.code, message: e.message, status: e.status };
    if (e.details !== undefined) info.details = e.details;
    return info;
  }
  const info: RemoteErrorInfo = describeError(e);
  // CliErrors that stand for a server refusal decided locally (import, push preflight) carry its details.
  const details = e instanceof CliError ? (e as CliError & { details?: unknown }).details : undefined;
  if (details && typeof details === 'object') info.details = details as Record<string, unknown>;
  return info;
}

/**
 * `ltx-edge: [<file>: ]<CODE> message` (+ a hint line) on stderr; with --json, `{"error": info, ...extra}`
 * on stdout. Exit 1.
 */
export async function reportRemoteFailure(
  io: CliIO,
  info: RemoteErrorInfo,
  json: boolean,
  opts: { hint?: string; extra?: Record<string, unknown> } = {},
): Promise<number> {
  const where = info.file !== undefined ? `${info.file}: ` : '';
  await io.err(`ltx-edge: ${where}${info.code} ${info.message}\n${opts.hint ? `${opts.hint}\n` : ''}`);
  if (json) await printJSON(io, { error: opts.hint ? { ...info, hint: opts.hint } : info, ...opts.extra });
  return EXIT_FAILURE;
}
