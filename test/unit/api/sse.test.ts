// The SSE parser: the WHATWG event-stream rules, whatever the chunk boundaries.

import { describe, expect, it } from 'vitest';
import { SseParser, readSse } from '../../../src/api/sse.ts';
import { prng } from '../../helpers/prng.ts';

const STREAM =
  ': watching shop\r\nretry: 2000\r\n\r\n' +
  'id: 0000000000000002\ndata: {"a":1}\n\n' +
  'event: deleted\rdata: {}\r\r' +
  'data: first\ndata:second\ndata\n\n' +
  'id\ndata: x\n\n' +
  'data: no blank line at the end';

const EXPECTED = [
  { type: 'message', data: '{"a":1}', lastEventId: '0000000000000002' },
  { type: 'deleted', data: '{}', lastEventId: '0000000000000002' },
  { type: 'message', data: 'first\nsecond\n', lastEventId: '0000000000000002' },
  { type: 'message', data: 'x', lastEventId: '' },
];

describe('SseParser', () => {
  it('parses fields, comments, CR, LF and CRLF line ends, multi-line data and id resets', () => {
    const parser = new SseParser();
    expect(parser.push(STREAM)).toEqual(EXPECTED);
    expect(parser.retryMs).toBe(2000);
  });

  it('gives the same events for every split of the stream into chunks (seed 18)', () => {
    const seed = 18;
    console.log(`sse chunking seed ${seed}`);
    const r = prng(seed);
    for (let run = 0; run < 500; run++) {
      const parser = new SseParser();
      const events = [];
      for (let at = 0; at < STREAM.length; ) {
        const n = 1 + r.int(run % 2 === 0 ? 4 : 40);
        events.push(...parser.push(STREAM.slice(at, at + n)));
        at += n;
      }
      expect(events).toEqual(EXPECTED);
    }
    // The one split that matters most: CR at the end of one chunk, LF at the start of the next.
    const parser = new SseParser();
    expect([...parser.push('data: a\r'), ...parser.push('\n\r'), ...parser.push('\ndata: b\n\n')]).toEqual([
      { type: 'message', data: 'a', lastEventId: '' },
      { type: 'message', data: 'b', lastEventId: '' },
    ]);
  });

  it('ignores unknown fields, a retry that is not digits, and an id with NUL', () => {
    const parser = new SseParser();
    expect(parser.push('foo: bar\nretry: 1e3\nid: a\0b\ndata: y\n\n')).toEqual([{ type: 'message', data: 'y', lastEventId: '' }]);
    expect(parser.retryMs).toBeUndefined();
  });

  it('readSse decodes a byte stream split inside a UTF-8 character', async () => {
    const bytes = new TextEncoder().encode('data: ü€\n\n');
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (const b of bytes) c.enqueue(Uint8Array.of(b));
        c.close();
      },
    });
    const got = [];
    for await (const e of readSse(body)) got.push(e.data);
    expect(got).toEqual(['ü€']);
  });
});
