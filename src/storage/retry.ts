// withRetry: retries retryable StorageErrors with exponential backoff and full jitter; delays injectable.
import { isRetryable, type StorageError } from './object-store.ts';

export interface RetryOptions {
  /** Total attempts including the first, ≥ 1. */
  attempts: number;
  /** Delay cap of the first retry in ms; each retry doubles it up to `maxDelayMs`. Default 100; 0 = no waiting. */
  baseDelayMs?: number;
  /** Largest delay in ms. Default 5,000. */
  maxDelayMs?: number;
  /** Stops retrying: the pending wait rejects and no further attempt starts; throws `signal.reason`. */
  signal?: AbortSignal;
  /** Called before each wait: the error that will be retried, the attempt that failed (from 1) and the delay. */
  onRetry?: (info: { error: StorageError; attempt: number; delayMs: number }) => void;
  /** Source of jitter in [0, 1). Default Math.random. */
  random?: () => number;
  /** How to wait; default setTimeout. Tests pass an instant one or use `baseDelayMs: 0`. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** The DO's R2 calls (uploads, compaction, deletes): 5 attempts, 50 ms → 2 s; tests lower the base to 0. */
export const DO_RETRY: Readonly<Required<Pick<RetryOptions, 'attempts' | 'baseDelayMs' | 'maxDelayMs'>>> = {
  attempts: 5,
  baseDelayMs: 50,
  maxDelayMs: 2000,
};

/** DO_RETRY with its base delay taken from a context that may override it (tests: 0). */
export function doRetry(baseDelayMs: number | undefined): Pick<RetryOptions, 'attempts' | 'baseDelayMs' | 'maxDelayMs'> {
  return { ...DO_RETRY, baseDelayMs: baseDelayMs ?? DO_RETRY.baseDelayMs };
}

/**
 * The delay before retry number `retry` (from 1): uniform in [0, min(max, base·2^(retry−1))),
 * "full jitter", so callers that failed together do not retry together.
 */
export function backoffDelay(retry: number, baseDelayMs: number, maxDelayMs: number, random: () => number): number {
  const cap = Math.min(maxDelayMs, baseDelayMs * 2 ** (retry - 1));
  return Math.floor(random() * cap);
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `fn` until it succeeds, throws something that is not a retryable StorageError, or has been
 * tried `attempts` times (then the last error is thrown as is). `fn` gets the attempt number (from
 * 1). Retrying a write is only safe when it is idempotent or create-only (see PutOptions.ifAbsent).
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const { attempts, signal } = opts;
  if (!Number.isInteger(attempts) || attempts < 1) throw new RangeError(`attempts must be an integer ≥ 1, got ${attempts}`);
  const base = opts.baseDelayMs ?? 100;
  const max = opts.maxDelayMs ?? 5000;
  const random = opts.random ?? Math.random;
  const sleep = opts.sleep ?? defaultSleep;
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw abortReason(signal);
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= attempts || !isRetryable(err)) throw err;
      const delayMs = backoffDelay(attempt, base, max, random);
      opts.onRetry?.({ error: err as StorageError, attempt, delayMs });
      if (delayMs > 0) await sleep(delayMs, signal);
    }
  }
}
