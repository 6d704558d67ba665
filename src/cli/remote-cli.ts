// What the commands that talk to a server share: their options, the client with retry notes, error reports.

import { CliError, EXIT_FAILURE, describeError } from './cli-errors.ts';
import { type CliIO, printJSON } from './cli-io.ts';
import { ApiClient, ApiClientError, type ClientConfig } from './http-client.ts';

/** parseArgs options every remote command takes. */
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
