// The range and conditional rules of the database file (RFC 9110 §13, §14), as a table: which answer each request gets.

import { describe, expect, it } from 'vitest';
import { type FileRequest, decideFileAnswer, formatRangeSpec, parseRangeHeader, resolveRange } from '../../../src/read/byte-ranges.ts';

const ETAG = '"0000000000000007-8a3c2f1e0b9d7c65-abc"';
const SIZE = 8192;
const get = (h: Omit<FileRequest, 'method'> = {}): FileRequest => ({ method: 'GET', ...h });

describe('decideFileAnswer', () => {
  const cases: [string, FileRequest, ReturnType<typeof decideFileAnswer>][] = [
    ['no Range', get(), { status: 200 }],
    ['first-last', get({ range: 'bytes=0-99' }), { status: 206, first: 0, last: 99 }],
    ['unit in any case, spaces', get({ range: 'Bytes= 10-19 ' }), { status: 206, first: 10, last: 19 }],
    ['first-', get({ range: 'bytes=8000-' }), { status: 206, first: 8000, last: 8191 }],
    ['last clamped', get({ range: 'bytes=8000-99999999999999999999' }), { status: 206, first: 8000, last: 8191 }],
    ['suffix', get({ range: 'bytes=-10' }), { status: 206, first: 8182, last: 8191 }],
    ['suffix longer than the file', get({ range: 'bytes=-100000' }), { status: 206, first: 0, last: 8191 }],
    ['last byte', get({ range: 'bytes=8191-8191' }), { status: 206, first: 8191, last: 8191 }],
    ['at the end', get({ range: 'bytes=8192-' }), { status: 416 }],
    ['empty suffix', get({ range: 'bytes=-0' }), { status: 416 }],
    ['backwards', get({ range: 'bytes=9-3' }), { status: 416 }],
    ['not a range', get({ range: 'bytes=x' }), { status: 416 }],
    ['no equals sign', get({ range: 'bytes' }), { status: 416 }],
    ['empty set', get({ range: 'bytes=' }), { status: 416 }],
    ['another unit is ignored', get({ range: 'items=0-1' }), { status: 200 }],
    ['several ranges → the whole file', get({ range: 'bytes=0-1,4-5' }), { status: 200 }],
    ['several, one satisfiable', get({ range: 'bytes=9000-,0-1' }), { status: 200 }],
    ['several, none satisfiable', get({ range: 'bytes=9000-,8192-' }), { status: 416 }],
    ['If-None-Match', get({ ifNoneMatch: ETAG }), { status: 304 }],
    ['If-None-Match weak', get({ ifNoneMatch: `W/${ETAG}` }), { status: 304 }],
    ['If-None-Match list', get({ ifNoneMatch: `"a", "b,c", ${ETAG}` }), { status: 304 }],
    ['If-None-Match *', get({ ifNoneMatch: '*' }), { status: 304 }],
    ['If-None-Match other', get({ ifNoneMatch: '"other"' }), { status: 200 }],
    ['If-None-Match beats Range', get({ ifNoneMatch: ETAG, range: 'bytes=0-1' }), { status: 304 }],
    ['If-Range holds', get({ ifRange: ETAG, range: 'bytes=0-1' }), { status: 206, first: 0, last: 1 }],
    ['If-Range weak never holds', get({ ifRange: `W/${ETAG}`, range: 'bytes=0-1' }), { status: 200 }],
    ['If-Range date never holds', get({ ifRange: 'Wed, 21 Oct 2015 07:28:00 GMT', range: 'bytes=0-1' }), { status: 200 }],
    ['If-Range without Range', get({ ifRange: '"other"' }), { status: 200 }],
    ['If-Range stale, malformed Range: whole file', get({ ifRange: '"other"', range: 'bytes=x' }), { status: 200 }],
    ['If-Match holds', get({ ifMatch: ETAG, range: 'bytes=0-1' }), { status: 206, first: 0, last: 1 }],
    ['If-Match *', get({ ifMatch: '*' }), { status: 200 }],
    ['If-Match other', get({ ifMatch: '"other"' }), { status: 412 }],
    ['If-Match weak is not strong', get({ ifMatch: `W/${ETAG}` }), { status: 412 }],
    ['HEAD ignores Range', { method: 'HEAD', range: 'bytes=0-1' }, { status: 200 }],
    ['HEAD If-None-Match', { method: 'HEAD', ifNoneMatch: ETAG }, { status: 304 }],
  ];
  it.each(cases)('%s', (_, req, want) => {
    expect(decideFileAnswer(req, SIZE, ETAG)).toEqual(want);
  });

  it('an empty file satisfies no range', () => {
    expect(decideFileAnswer(get({ range: 'bytes=0-' }), 0, ETAG)).toEqual({ status: 416 });
    expect(decideFileAnswer(get({ range: 'bytes=-5' }), 0, ETAG)).toEqual({ status: 416 });
  });
});

describe('parseRangeHeader, resolveRange, formatRangeSpec', () => {
  it('one spec has one canonical spelling', () => {
    for (const [header, canonical] of [
      ['bytes=0-9', '0-9'],
      ['BYTES = 5-', '5-'],
      ['bytes=-7', '-7'],
      ['bytes= 007-010', '7-10'],
    ] as const) {
      const r = parseRangeHeader(header);
      expect(r.kind, header).toBe('one');
      if (r.kind === 'one') expect(formatRangeSpec(r.spec)).toBe(canonical);
    }
  });

  it('stops parsing after MAX_RANGES items: a huge list is the whole file, not work', () => {
    const header = 'bytes=' + Array.from({ length: 10_000 }, (_, i) => `${i}-${i}`).join(',');
    expect(parseRangeHeader(header).kind).toBe('many');
    expect(decideFileAnswer(get({ range: header }), SIZE, ETAG)).toEqual({ status: 200 });
  });

  it('resolves against the size', () => {
    expect(resolveRange({ first: 0 }, 1)).toEqual({ first: 0, last: 0 });
    expect(resolveRange({ first: 1 }, 1)).toBeUndefined();
    expect(resolveRange({ suffix: 1 }, 1)).toEqual({ first: 0, last: 0 });
  });
});
