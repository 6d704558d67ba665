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

/** The real process streams. A reader that goes away (`ltx inspect x.ltx | head`) ends the process quietly. */
export function processIO(): CliIO {
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.listeners('error').includes(exitOnEPIPE)) continue;
    stream.on('error', exitOnEPIPE);
  }
  return { out: writer(process.stdout), err: writer(process.stderr) };
}

function exitOnEPIPE(e: NodeJS.ErrnoException): void {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
}

/** One JSON value on stdout, pretty-printed, newline-terminated. */
export function printJSON(io: CliIO, value: unknown): Promise<void> {
  return io.out(JSON.stringify(value, null, 2) + '\n');
}
