// JSON request bodies read strictly: a byte limit, a nesting limit checked before parsing, and a field check that names the wrong field.

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

/** One field's rule: undefined when `value` (present) is acceptable, else what is wrong with it. */
export type FieldRule = (value: unknown) => string | undefined;

/** A JSON string. */
export const aString: FieldRule = (v) => (typeof v === 'string' ? undefined : `expected a string, got ${jsonType(v)}`);

/** A JSON string with something other than white space in it. */
export const aNonEmptyString: FieldRule = (v) => aString(v) ?? ((v as string).trim() === '' ? 'must be a non-empty string' : undefined);

/** A JSON array or object. */
export const anArrayOrObject: FieldRule = (v) =>
  typeof v === 'object' && v !== null ? undefined : `expected an array or an object, got ${jsonType(v)}`;

/** A JSON string matching `pattern`. */
export function aStringMatching(pattern: RegExp, what: string): FieldRule {
  return (v) => aString(v) ?? (pattern.test(v as string) ? undefined : `must be ${what}`);
}

/** A JSON integer from `min` to `max`. */
export function anInteger(min: number, max: number): FieldRule {
  return (v) =>
    Number.isInteger(v) && (v as number) >= min && (v as number) <= max ? undefined : `must be an integer from ${min} to ${max}`;
}

/**
 * `json` as an object with only the fields `rules` names, each optional and checked by its rule;
 * 400 BAD_REQUEST naming the first wrong field (`details.field`; null when the body as a whole is
 * wrong) and the expected `shape` otherwise.
 */
export function parseJSONObject<K extends string>(json: unknown, rules: Record<K, FieldRule>, shape: string): Partial<Record<K, unknown>> {
  const refuse = (field: string | null, message: string): never => {
    throw new ApiError('BAD_REQUEST', `${field ?? 'the body'}: ${message} (expected ${shape})`, { field });
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) refuse(null, `expected an object, got ${jsonType(json)}`);
  const body = json as Record<string, unknown>;
  for (const key of Object.keys(body)) if (!Object.hasOwn(rules, key)) refuse(null, `unknown field ${JSON.stringify(key.slice(0, 40))}`);
  for (const [key, rule] of Object.entries(rules) as [string, FieldRule][]) {
    if (body[key] === undefined) continue;
    const wrong = rule(body[key]);
    if (wrong !== undefined) refuse(key, wrong);
  }
  return body as Partial<Record<K, unknown>>;
}

/** `null`, `array` or the `typeof` of a parsed JSON value. */
function jsonType(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}
