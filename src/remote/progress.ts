// A one-line progress bar on stderr (bytes done / total, MB/s) when stderr is a TTY; silent otherwise.

/** Progress of one transfer. `add` is cheap (redraws at most every `intervalMs`); `done` draws the final line. */
export interface Progress {
  /** Counts `bytes` more as done. */
  add(bytes: number): void;
  /** Draws the final state and ends the line; later calls do nothing. */
  done(): void;
}

export interface ProgressOptions {
  /** Shown before the bar, e.g. the file name. */
  label: string;
  /** Bytes expected in all; unknown → no bar, only the count and the rate. */
  total?: number;
  /** Where to draw (default process.stderr). */
  stream?: NodeJS.WriteStream;
  /** Default: `stream.isTTY`. Piped or redirected stderr gets nothing. */
  enabled?: boolean;
  /** Minimum time between redraws, milliseconds (default 100). */
  intervalMs?: number;
  /** Clock in milliseconds (tests). */
  now?: () => number;
}

const SILENT: Progress = { add: () => undefined, done: () => undefined };

/** A progress bar for one transfer; a no-op unless stderr (or `stream`) is a terminal. */
export function createProgress(opts: ProgressOptions): Progress {
  const stream = opts.stream ?? process.stderr;
  if (!(opts.enabled ?? stream.isTTY === true)) return SILENT;
  const now = opts.now ?? (() => performance.now());
  const interval = opts.intervalMs ?? 100;
  const start = now();
  let bytes = 0;
  let lastDraw = -Infinity;
  let finished = false;

  const draw = (final: boolean): void => {
    const t = now();
    const width = Math.max(40, (stream.columns || 80) - 1);
    stream.write(`\r${formatProgressLine(opts.label, bytes, opts.total, t - start, width)}\x1b[K${final ? '\n' : ''}`);
    lastDraw = t;
  };
  return {
    add(n: number): void {
      bytes += n;
      if (!finished && now() - lastDraw >= interval) draw(false);
    },
    done(): void {
      if (finished) return;
      finished = true;
      draw(true);
    },
  };
}

/**
 * `label [######----]  45%  12.3/27.1 MB  85.2 MB/s` fitted into `width` columns (MB = 10^6 bytes);
 * without a total: `label  12.3 MB  85.2 MB/s`. The label is shortened from the left when needed.
 */
export function formatProgressLine(label: string, bytes: number, total: number | undefined, elapsedMs: number, width: number): string {
  const rate = elapsedMs > 0 ? bytes / 1e6 / (elapsedMs / 1000) : 0;
  const rateText = `${rate.toFixed(1)} MB/s`;
  if (total === undefined || total <= 0) {
    const tail = `  ${formatMB(bytes)} MB  ${rateText}`;
    return fitLabel(label, width - tail.length) + tail;
  }
  const fraction = Math.min(1, bytes / total);
  const tail = `  ${(fraction * 100).toFixed(0).padStart(3)}%  ${formatMB(bytes)}/${formatMB(total)} MB  ${rateText}`;
  // The bar gives way before the label does (down to 10 columns).
  const barWidth = Math.max(10, Math.min(30, width - tail.length - label.length - 3));
  const filled = Math.round(fraction * barWidth);
  const bar = ` [${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}]`;
  return fitLabel(label, width - tail.length - bar.length) + bar + tail;
}

function formatMB(bytes: number): string {
  const mb = bytes / 1e6;
  return mb < 10 ? mb.toFixed(2) : mb < 1000 ? mb.toFixed(1) : mb.toFixed(0);
}

function fitLabel(label: string, room: number): string {
  if (label.length <= room) return label;
  if (room <= 1) return '';
  return '…' + label.slice(label.length - room + 1);
}
