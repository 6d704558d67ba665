// The SSE parser's rules case by case: fields, comments, multi-line data, ids, retry, a BOM, and CRLF/CR/LF split anywhere across chunks.

import { describe, expect, it } from 'vitest';
import { type SseEvent, SseParser } from '../../../src/api/sse.ts';

/** Every event of `chunks` fed in order. */
function parse(chunks: string[], lastEventId = ''): { events: SseEvent[]; parser: SseParser } {
  const parser = new SseParser(lastEventId);
  return { events: chunks.flatMap((c) => parser.push(c)), parser };
}

/** Every way to cut `text` in two, plus one character at a time. */
function splits(text: string): string[][] {
  const out = [[text], [...text]];
  for (let i = 1; i < text.length; i++) out.push([text.slice(0, i), text.slice(i)]);
  return out;
}

const STREAM =
  ': hello\n\nid: 0000000000000002\ndata: {"pos":{"txid":"0000000000000002"}}\n\n' +
  'event: deleted\ndata:\n\n' +
  'data: line one\ndata:  line two\nid: 3\n\n';
const EXPECTED: SseEvent[] = [
  { type: 'message', data: '{"pos":{"txid":"0000000000000002"}}', lastEventId: '0000000000000002' },
  { type: 'deleted', data: '', lastEventId: '0000000000000002' },
  // One leading space is dropped, the next is kept.
  { type: 'message', data: 'line one\n line two', lastEventId: '3' },
];

describe('SseParser', () => {
  const endings = { LF: '\n', CRLF: '\r\n', CR: '\r' };
  for (const [name, eol] of Object.entries(endings)) {
    it(`reads a stream with ${name} line ends, however it is cut into chunks`, () => {
      const text = STREAM.replaceAll('\n', eol);
      for (const chunks of splits(text)) {
        const { events, parser } = parse(chunks);
        expect(events, JSON.stringify(chunks)).toEqual(EXPECTED);
        expect(parser.lastEventId).toBe('3');
      }
    });
  }

  it('takes a CR ending one chunk and an LF starting the next as one line end, not a blank line', () => {
    const parser = new SseParser();
    expect(parser.push('data: a\r')).toEqual([]);
    expect(parser.push('\ndata: b\r')).toEqual([]);
    expect(parser.push('\n\r\n')).toEqual([{ type: 'message', data: 'a\nb', lastEventId: '' }]);
  });

  it('ignores comments, unknown fields and a blank line with no data; a field without a colon has an empty value', () => {
    const { events } = parse([':keep-alive\n\nfoo: bar\n\nevent: x\n\ndata\n\n']);
    // "event: x" with no data dispatches nothing and is forgotten.
    expect(events).toEqual([{ type: 'message', data: '', lastEventId: '' }]);
  });

  it('keeps the last event id across events and from the constructor; an id with NUL is ignored', () => {
    const { events, parser } = parse(['data: a\n\nid: 5\0\ndata: b\n\n'], '0000000000000004');
    expect(events.map((e) => e.lastEventId)).toEqual(['0000000000000004', '0000000000000004']);
    expect(parser.lastEventId).toBe('0000000000000004');
  });

  it('takes retry only when it is all digits', () => {
    const { parser } = parse(['retry: 2500\n', 'retry: soon\n', 'retry: 1e3\n\n']);
    expect(parser.retryMs).toBe(2500);
  });

  it('drops a byte order mark at the very start only, and an unfinished event at the end', () => {
    const { events } = parse(['\ufeffdata: a\n\n', 'data: \ufeffb\n\n', 'data: unfinished\n']);
    expect(events.map((e) => e.data)).toEqual(['a', '\ufeffb']);
  });
});
