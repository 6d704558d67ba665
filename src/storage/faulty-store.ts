// FaultyObjectStore: wraps an ObjectStore and injects seeded, reproducible failures (before, after, timeout).
import {
  StorageError,
  type ByteRange,
  type ListOptions,
  type ListResult,
  type MultipartOptions,
  type MultipartUpload,
  type ObjectBody,
  type ObjectInfo,
  type ObjectStore,
  type PutOptions,
  type UploadedPart,
} from './object-store.ts';
import { mulberry32 } from './prng.ts';

/** Every operation that can be faulted. */
export const FAULT_OPS = ['put', 'get', 'head', 'list', 'delete', 'createMultipart', 'uploadPart', 'complete', 'abort'] as const;
export type FaultOp = (typeof FAULT_OPS)[number];

/**
 * `before`: the call fails and nothing happened. `after`: the operation happened but the caller
 * sees a failure (lost response). `timeout`: the call fails with STORAGE_TIMEOUT after a delay and
 * the operation happened or not (`applied`).
 */
export type FaultKind = 'before' | 'after' | 'timeout';

export interface FaultyStoreOptions {
  seed: number;
  /** Probability (0..1) per call of a STORAGE_UNAVAILABLE failure, before or after the operation. */
  failureRate: number;
  /** Probability (0..1) per call of a STORAGE_TIMEOUT; the operation is applied half of the time. Default 0. */
  timeoutRate?: number;
  /** Share (0..1) of failures injected after the operation ran. Default 0.5. */
  afterShare?: number;
  /** Operations to fault; default all of FAULT_OPS. */
  ops?: readonly FaultOp[];
  /** What a timeout waits for before rejecting; default one `setTimeout(0)` tick (no real sleeping). */
  delay?: () => Promise<void>;
}

/** One injected fault, in call order. */
export interface InjectedFault {
  /** Index of the call among all calls to the store (from 0). */
  call: number;
  op: FaultOp;
  key?: string;
  kind: FaultKind;
  /** Whether the operation took effect. */
  applied: boolean;
}

export interface FaultCounts {
  calls: number;
  before: number;
  after: number;
  timeouts: number;
}

export interface FaultStats extends FaultCounts {
  byOp: Record<FaultOp, FaultCounts>;
}

/** The error a FaultyObjectStore injects: a retryable StorageError that says what happened. */
export class InjectedStorageError extends StorageError {
  readonly fault: InjectedFault;

  constructor(fault: InjectedFault) {
    const what = fault.applied ? 'after it was applied' : 'before it was applied';
    super(fault.kind === 'timeout' ? 'STORAGE_TIMEOUT' : 'STORAGE_UNAVAILABLE', `${fault.op}: injected ${fault.kind} fault ${what}`, {
      op: fault.op,
      key: fault.key,
    });
    this.fault = fault;
  }
}

function counts(): FaultCounts {
  return { calls: 0, before: 0, after: 0, timeouts: 0 };
}

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * An ObjectStore that fails on purpose. Decisions are drawn synchronously when a call starts, so
 * the same seed and the same sequence of calls give the same faults. Set `enabled = false` to pass
 * everything through (e.g. to check the final state).
 */
export class FaultyObjectStore implements ObjectStore {
  readonly inner: ObjectStore;
  readonly stats: FaultStats;
  /** Every fault injected so far, in order. */
  readonly faults: InjectedFault[] = [];
  enabled = true;
  readonly #random: () => number;
  readonly #failureRate: number;
  readonly #timeoutRate: number;
  readonly #afterShare: number;
  readonly #ops: ReadonlySet<FaultOp>;
  readonly #delay: () => Promise<void>;

  constructor(inner: ObjectStore, opts: FaultyStoreOptions) {
    this.inner = inner;
    this.#random = mulberry32(opts.seed);
    this.#failureRate = opts.failureRate;
    this.#timeoutRate = opts.timeoutRate ?? 0;
    this.#afterShare = opts.afterShare ?? 0.5;
    this.#ops = new Set(opts.ops ?? FAULT_OPS);
    this.#delay = opts.delay ?? tick;
    const byOp = {} as Record<FaultOp, FaultCounts>;
    for (const op of FAULT_OPS) byOp[op] = counts();
    this.stats = { ...counts(), byOp };
  }

  put(key: string, body: Uint8Array, opts?: PutOptions): Promise<ObjectInfo | null> {
    return this.#run('put', key, () => this.inner.put(key, body, opts));
  }

  get(key: string, range?: ByteRange): Promise<ObjectBody | null> {
    // A discarded body is cancelled so the inner store can release it.
    return this.#run(
      'get',
      key,
      () => this.inner.get(key, range),
      (obj) => void obj?.body.cancel().catch(() => {}),
    );
  }

  head(key: string): Promise<ObjectInfo | null> {
    return this.#run('head', key, () => this.inner.head(key));
  }

  delete(keys: string | string[]): Promise<void> {
    return this.#run('delete', typeof keys === 'string' ? keys : keys[0], () => this.inner.delete(keys));
  }

  list(opts: ListOptions): Promise<ListResult> {
    return this.#run('list', opts.prefix, () => this.inner.list(opts));
  }

  async createMultipart(key: string, opts?: MultipartOptions): Promise<MultipartUpload> {
    return this.#wrap(await this.#run('createMultipart', key, () => this.inner.createMultipart(key, opts)));
  }

  resumeMultipart(key: string, uploadId: string): MultipartUpload {
    return this.#wrap(this.inner.resumeMultipart(key, uploadId));
  }

  #wrap(upload: MultipartUpload): MultipartUpload {
    const key = upload.key;
    return {
      key,
      uploadId: upload.uploadId,
      uploadPart: (partNumber: number, body: Uint8Array): Promise<UploadedPart> =>
        this.#run('uploadPart', key, () => upload.uploadPart(partNumber, body)),
      complete: (parts: UploadedPart[]): Promise<ObjectInfo> => this.#run('complete', key, () => upload.complete(parts)),
      abort: (): Promise<void> => this.#run('abort', key, () => upload.abort()),
    };
  }

  /** Draws this call's fault (or none) synchronously, so the sequence depends only on the seed and call order. */
  #decide(op: FaultOp, key: string | undefined): InjectedFault | null {
    const call = this.stats.calls++;
    this.stats.byOp[op].calls++;
    if (!this.enabled || !this.#ops.has(op)) return null;
    const r = this.#random();
    let kind: FaultKind;
    let applied: boolean;
    if (r < this.#timeoutRate) {
      kind = 'timeout';
      applied = this.#random() < 0.5;
    } else if (r < this.#timeoutRate + this.#failureRate) {
      applied = this.#random() < this.#afterShare;
      kind = applied ? 'after' : 'before';
    } else {
      return null;
    }
    const fault: InjectedFault = { call, op, kind, applied };
    if (key !== undefined) fault.key = key;
    return fault;
  }

  #record(fault: InjectedFault): InjectedStorageError {
    this.faults.push(fault);
    const field = fault.kind === 'timeout' ? 'timeouts' : fault.kind;
    this.stats[field]++;
    this.stats.byOp[fault.op][field]++;
    return new InjectedStorageError(fault);
  }

  async #run<T>(op: FaultOp, key: string | undefined, fn: () => Promise<T>, discard?: (value: T) => void): Promise<T> {
    const fault = this.#decide(op, key);
    if (fault === null) return fn();
    if (!fault.applied) {
      if (fault.kind === 'timeout') await this.#delay();
      throw this.#record(fault);
    }
    let value: T;
    try {
      value = await fn();
    } catch (err) {
      // The operation failed by itself: a lost response would have carried this error.
      if (fault.kind === 'after') throw err;
      fault.applied = false;
      await this.#delay();
      throw this.#record(fault);
    }
    discard?.(value);
    if (fault.kind === 'timeout') await this.#delay();
    throw this.#record(fault);
  }
}
