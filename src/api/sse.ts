// An incremental Server-Sent Events parser (the WHATWG event-stream rules) for clients reading GET …/watch with fetch.

/** One dispatched event. */
export interface SseEvent {
  /** `message` unless the stream named it. */
  type: string;
  data: string;
  /** The last id the stream set (carried over from earlier events, as EventSource does). */
  lastEventId: string;
}

/**
 * Feed it decoded text in any chunks (lines may split anywhere, CR LF across two chunks included);
 * it returns the events each chunk completes. Comments, unknown fields and events without data are
 * dropped; `retry` is kept for the caller's reconnection delay.
 */
export class SseParser {
  lastEventId = '';
  /** The stream's `retry:` in ms, if it sent one. */
  retryMs: number | undefined;
  private buffer = '';
  private type = '';
  private data: string[] = [];
  /** The previous chunk ended in CR: an LF starting this one belongs to it. */
  private pendingCR = false;
  private started = false;

  /** `lastEventId`: where a resumed stream starts (its events carry it until the stream sets another). */
  constructor(lastEventId = '') {
    this.lastEventId = lastEventId;
  }

  push(chunk: string): SseEvent[] {
    let text = chunk;
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a byte order mark at the very start only
    }
    if (this.pendingCR && text.startsWith('\n')) text = text.slice(1);
    this.pendingCR = text.endsWith('\r');
    this.buffer += text;
    const events: SseEvent[] = [];
    const lines = this.buffer.split(/\r\n|\r|\n/);
    this.buffer = lines.pop()!;
    for (const line of lines) {
      const event = this.line(line);
      if (event) events.push(event);
    }
    return events;
  }

  private line(line: string): SseEvent | undefined {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.type = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.lastEventId = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value);
    return undefined;
  }

  private dispatch(): SseEvent | undefined {
    const type = this.type || 'message';
    const data = this.data;
    this.type = '';
    this.data = [];
    return data.length === 0 ? undefined : { type, data: data.join('\n'), lastEventId: this.lastEventId };
  }
}

/** The events of a response body, until it ends (stopping the loop cancels the body). */
export async function* readSse(body: ReadableStream<Uint8Array>, parser = new SseParser()): AsyncGenerator<SseEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  try {
    for (let r = await reader.read(); !r.done; r = await reader.read()) yield* parser.push(decoder.decode(r.value, { stream: true }));
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
