// JSON request bodies read strictly: a byte limit, a nesting limit checked before parsing, and a zod schema that names the wrong field.

import type { z } from 'zod';
import { DEFAULT_UPLOAD_IDLE_MS, DEFAULT_UPLOAD_TOTAL_MS } from '../config.ts';
import { readBoundedBody } from '../durable/body-reader.ts';
import { ApiError } from '../errors.ts';

/** How much of an oversized JSON body is read and dropped so the client sees its 413 rather than a reset. */
export const JSON_DRAIN_LIMIT_BYTES = 8 * 1024 * 1024;

/** Deepest nesting of arrays and objects a JSON body may have: every body we take is flat, 32 leaves room for params. */
export const MAX_JSON_DEPTH = 32;

/**
 * Reads at most `max` bytes of JSON, under the default upload deadlines (readBoundedBody); 413
 * PAYLOAD_TOO_LARGE beyond (after draining what the client still sends, up to JSON_DRAIN_LIMIT_BYTES),
 * 400 BAD_REQUEST when it is not JSON or nests deeper than MAX_JSON_DEPTH.
 */
export async function readJSONBody(req: Request, max: number): Promise<unknown> {
  if (req.body === null) throw new ApiError('BAD_REQUEST', 'a JSON body is required');
  const body = await readBoundedBody(
    req.body,
    max,
    { idleMs: DEFAULT_UPLOAD_IDLE_MS, totalMs: DEFAULT_UPLOAD_TOTAL_MS },
    JSON_DRAIN_LIMIT_BYTES,
  );
  if (!body.ok) throw new ApiError(body.code, body.message);
  const text = new TextDecoder().decode(body.bytes);
  const depth = jsonDepth(text);
  if (depth > MAX_JSON_DEPTH) throw new ApiError('BAD_REQUEST', `the JSON body nests ${depth} levels deep; at most ${MAX_JSON_DEPTH}`);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ApiError('BAD_REQUEST', `malformed JSON body: ${(e as Error).message}`);
  }
}

/** The deepest nesting of `[`/`{` outside strings (a scan, no parse: a deep body never reaches a recursive parser or printer). */
export function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c)
        i++; // backslash: skip the escaped character
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x5b || ch === 0x7b) deepest = Math.max(deepest, ++depth);
    else if (ch === 0x5d || ch === 0x7d) depth--;
  }
  return deepest;
}

/** `json` checked against `schema`; 400 BAD_REQUEST naming the first wrong field otherwise. */
export function parseJSONBody<S extends z.ZodType>(json: unknown, schema: S, shape: string): z.infer<S> {
  const r = schema.safeParse(json);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = issue.path.length > 0 ? issue.path.join('.') : 'the body';
  throw new ApiError('BAD_REQUEST', `${field}: ${issue.message} (expected ${shape})`, { field: issue.path.join('.') || null });
}
