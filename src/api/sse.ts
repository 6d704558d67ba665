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

  push(chunk: string): SseEvent[] {
    let text = chunk;
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
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  try {
    for (let r = await reader.read(); !r.done; r = await reader.read()) yield* parser.push(r.value);
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
