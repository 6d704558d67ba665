// HTTP ranges and conditional requests on a file of known size and strong ETag (RFC 9110 §13, §14): which answer a request gets.
//
// Preconditions in the RFC's order (§13.2.2): If-Match (412 when no tag matches), If-None-Match
// (304 when one does), then Range, which If-Range may disable. There is no Last-Modified, so
// If-Modified-Since is not evaluated and an If-Range date never matches (the whole file is sent).
// One range → 206; several → 200 with the whole file, which §14.2 allows, unless none of them is
// satisfiable (416). A Range in another unit is ignored (§14.2); a malformed `bytes` one is
// rejected with 416, as the RFC permits. HEAD ignores Range (range handling is defined for GET).

/** Headers a range or conditional request may carry (lower-case names, as a Headers object gives them). */
export interface FileRequest {
  method: string;
  range?: string | null;
  ifRange?: string | null;
  ifMatch?: string | null;
  ifNoneMatch?: string | null;
}

/** What to answer. 206 carries the inclusive byte range [first, last]. */
export type FileDecision =
  | { status: 200 }
  | { status: 206; first: number; last: number }
  | { status: 304 }
  | { status: 412 }
  | { status: 416 };

/** A requested range before the file's size is known: `first-last`, `first-` or `-suffix`. */
export type RangeSpec = { first: number; last?: number } | { suffix: number };

/** What a Range header asks for, independent of the file: nothing, one range, several, or a malformed set. */
export type RangeRequest =
  | { kind: 'none' }
  | { kind: 'one'; spec: RangeSpec }
  | { kind: 'many'; specs: RangeSpec[] }
  | { kind: 'malformed' };

/** Ranges one header may list before it is answered with the whole file without parsing the rest. */
export const MAX_RANGES = 64;

const SPEC = /^(?:(\d+)-(\d*)|-(\d+))$/;

/** Parses a Range header (§14.1.1): `bytes=` then a comma-separated set; whitespace around items allowed. */
export function parseRangeHeader(header: string | null | undefined): RangeRequest {
  if (header === null || header === undefined) return { kind: 'none' };
  const eq = header.indexOf('=');
  if (eq < 0) return { kind: 'malformed' };
  if (header.slice(0, eq).trim().toLowerCase() !== 'bytes') return { kind: 'none' };
  const items = header
    .slice(eq + 1)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (items.length === 0) return { kind: 'malformed' };
  const specs: RangeSpec[] = [];
  for (const item of items.slice(0, MAX_RANGES)) {
    const m = SPEC.exec(item);
    if (!m) return { kind: 'malformed' };
    if (m[3] !== undefined) {
      specs.push({ suffix: Number(m[3]) });
      continue;
    }
    const first = Number(m[1]);
    if (m[2] === '') {
      specs.push({ first });
      continue;
    }
    const last = Number(m[2]);
    if (last < first) return { kind: 'malformed' };
    specs.push({ first, last });
  }
  return items.length === 1 ? { kind: 'one', spec: specs[0] } : { kind: 'many', specs };
}

/** The inclusive byte range a spec selects in a file of `size` bytes, or undefined when it selects none (§14.1.2). */
export function resolveRange(spec: RangeSpec, size: number): { first: number; last: number } | undefined {
  if ('suffix' in spec) return spec.suffix > 0 && size > 0 ? { first: Math.max(0, size - spec.suffix), last: size - 1 } : undefined;
  if (spec.first >= size) return undefined;
  return { first: spec.first, last: Math.min(spec.last ?? size - 1, size - 1) };
}

/** The canonical text of a spec (`0-4095`, `4096-`, `-512`): a cache key part that other spellings share. */
export function formatRangeSpec(spec: RangeSpec): string {
  return 'suffix' in spec ? `-${spec.suffix}` : `${spec.first}-${spec.last ?? ''}`;
}

/** Decides the answer to `req` for a file of `size` bytes whose strong ETag is `etag` (quoted). */
export function decideFileAnswer(req: FileRequest, size: number, etag: string): FileDecision {
  if (req.ifMatch != null && !matchesAny(req.ifMatch, etag, true)) return { status: 412 };
  if (req.ifNoneMatch != null && ifNoneMatchHolds(req.ifNoneMatch, etag)) return { status: 304 };
  if (req.method !== 'GET') return { status: 200 };
  const asked = parseRangeHeader(req.range);
  if (asked.kind === 'none') return { status: 200 };
  if (req.ifRange != null && !ifRangeHolds(req.ifRange, etag)) return { status: 200 };
  if (asked.kind === 'malformed') return { status: 416 };
  if (asked.kind === 'many') return asked.specs.some((s) => resolveRange(s, size)) ? { status: 200 } : { status: 416 };
  const range = resolveRange(asked.spec, size);
  return range ? { status: 206, ...range } : { status: 416 };
}

/** If-Range (§13.1.5): true only for an entity-tag strongly equal to ours; a date (we send no Last-Modified) never holds. */
function ifRangeHolds(value: string, etag: string): boolean {
  const v = value.trim();
  return !v.startsWith('W/') && v === etag;
}

/** If-None-Match (§13.1.2): `*` or a list naming `etag`, weak comparison — the answer is then 304. */
export function ifNoneMatchHolds(list: string, etag: string): boolean {
  return matchesAny(list, etag, false);
}

/** Whether an If-Match / If-None-Match list (`*` or entity-tags) names `etag`: strong comparison for If-Match, weak for If-None-Match. */
function matchesAny(list: string, etag: string, strong: boolean): boolean {
  if (list.trim() === '*') return true;
  for (const tag of splitEntityTags(list)) {
    const weak = tag.startsWith('W/');
    if (strong && weak) continue;
    if ((weak ? tag.slice(2) : tag) === etag) return true;
  }
  return false;
}

/** The entity-tags of a comma-separated list; a comma inside quotes belongs to its tag. */
function splitEntityTags(list: string): string[] {
  return list.match(/(?:W\/)?"[^"]*"/g) ?? [];
}
