// POST /litefs/db/tx bodies: tell v1 from current LTX by their first bytes and hand the DO a current-format stream.

import { BodyReadError, type UploadDeadlines, UploadTimeoutError, withDeadlines } from '../durable/body-reader.ts';
import { convertV1ToCurrentChunks, LTXError, type LTXGeneration, sniffLTXGeneration } from '../ltx/index.ts';
import { LiteFSError } from './litefs-protocol.ts';

/** A pushed body ready for the DO's ingest. */
export interface PreparedPush {
  generation: LTXGeneration;
  /** Current-format bytes: the body itself, or the v1 body converted as it streams. */
  stream: ReadableStream<Uint8Array>;
  /** The codec error that stopped a v1 conversion, once the DO has read that far. */
  failure(): LTXError | undefined;
}

/**
 * Reads just enough of `body` to know its generation (at most a header and one page frame, ~128 KiB),
 * then streams the rest. A v1 file is converted (convertV1ToCurrentChunks); when it turns out bad the
 * converted stream simply ends before its tail, so the DO's strict decoder refuses it as truncated
 * without ever committing, and `failure()` names the real reason for the answer. The body has no
 * Content-Length (LiteFS pipes it), which is why nothing here needs one.
 */
export async function preparePush(body: ReadableStream<Uint8Array>, deadlines: UploadDeadlines): Promise<PreparedPush> {
  const reader = body.getReader();
  // The first bytes arrive under the upload deadlines here; the rest under the DO's, which reads it.
  const sniffing = withDeadlines(
    { read: () => reader.read() as ReturnType<typeof sniffing.read>, cancel: () => reader.cancel() },
    deadlines,
  );
  const head: Uint8Array[] = [];
  let headBytes: Uint8Array = new Uint8Array(0);
  let ended = false;
  let generation: LTXGeneration | undefined;
  while (generation === undefined) {
    let r: Awaited<ReturnType<typeof sniffing.read>>;
    try {
      r = await sniffing.read();
    } catch (e) {
      if (e instanceof UploadTimeoutError) throw new LiteFSError(408, 'ETIMEOUT', e.message);
      if (e instanceof BodyReadError) throw new LiteFSError(400, 'EINVAL', e.message);
      throw e;
    }
    if (r.done) ended = true;
    else {
      head.push(r.value);
      headBytes = concat(headBytes, r.value);
    }
    generation = sniffLTXGeneration(headBytes, ended);
  }
  async function* chunks(): AsyncGenerator<Uint8Array> {
    yield* head;
    if (ended) return;
    for (let r = await reader.read(); !r.done; r = await reader.read()) yield r.value;
  }
  let failure: LTXError | undefined;
  const source = generation === 'v1' ? convertV1ToCurrentChunks(chunks()) : chunks();
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const r = await source.next();
          if (r.done) controller.close();
          else controller.enqueue(r.value);
        } catch (e) {
          if (!(e instanceof LTXError)) throw e;
          failure = e;
          controller.close();
          await reader.cancel(e).catch(() => undefined);
        }
      },
      async cancel(reason) {
        await source.return(undefined).catch(() => undefined);
        await reader.cancel(reason).catch(() => undefined);
      },
    },
    { highWaterMark: 0 },
  );
  return { generation, stream, failure: () => failure };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
