// The CLI's output channels: stdout/stderr writes that respect back-pressure, swappable in tests.

/** Where a command writes. `out` is the result (human text or JSON), `err` diagnostics. */
export interface CliIO {
  out(text: string): Promise<void>;
  err(text: string): Promise<void>;
}

/** Writes to a Node stream, waiting for 'drain' when its buffer is full (large `inspect` outputs). */
function writer(stream: NodeJS.WriteStream): (text: string) => Promise<void> {
  return (text) =>
    new Promise<void>((resolve, reject) => {
      if (stream.write(text)) return resolve();
      const onDrain = (): void => {
        stream.off('error', onError);
        resolve();
      };
      const onError = (e: Error): void => {
        stream.off('drain', onDrain);
        reject(e);
      };
      stream.once('drain', onDrain);
      stream.once('error', onError);
    });
}

/** The real process streams. */
export function processIO(): CliIO {
  return { out: writer(process.stdout), err: writer(process.stderr) };
}

/** One JSON value on stdout, pretty-printed, newline-terminated. */
export function printJSON(io: CliIO, value: unknown): Promise<void> {
  return io.out(JSON.stringify(value, null, 2) + '\n');
}
