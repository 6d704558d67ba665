// Request bodies as careless or hostile clients send them: stalled, trickling, endless.

/** A body that sends `parts`, then nothing more, ever (a stalled client). */
export function stalling(...parts: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (i < parts.length) c.enqueue(parts[i++]);
      else return new Promise<void>(() => undefined);
    },
  });
}

/** A body that sends `chunk` bytes of `bytes` every `everyMs` (a client slower than the total deadline allows). */
export function trickling(bytes: Uint8Array, chunk: number, everyMs: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      if (at > 0) await new Promise((r) => setTimeout(r, everyMs));
      if (at >= bytes.length) return c.close();
      c.enqueue(bytes.slice(at, (at += chunk)));
    },
  });
}

/** `chunk` repeated up to `max` bytes, with no length known up front (chunked transfer). */
export function endless(chunk: Uint8Array, max: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (sent >= max) return c.close();
      sent += chunk.length;
      c.enqueue(chunk);
    },
  });
}
