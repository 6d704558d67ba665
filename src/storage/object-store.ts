// The ObjectStore port: the narrow object-storage interface the DO, readers and compaction use (R2, memory, faulty).

/** What a store knows about one committed object. */
export interface ObjectInfo {
  key: string;
  /** Size of the whole object in bytes. */
  size: number;
  /** Opaque entity tag; changes when the content changes. */
  etag: string;
  uploaded: Date;
  /** Custom metadata, e.g. `litestream-timestamp` (DESIGN §2). Always present, `{}` when none. */
  customMetadata: Record<string, string>;
}

/**
 * A byte range of a get: `{offset, length?}` from `offset` (to the end without `length`), or the
 * last `suffix` bytes. Offsets and lengths are integers; `length` and `suffix` are ≥ 1. A range that
 * starts at or past the end (every range of an empty object) fails with STORAGE_INVALID_RANGE; a
 * `length` running past the end is clipped; a `suffix` larger than the object returns all of it.
 */
export type ByteRange = { offset: number; length?: number } | { suffix: number };

/** An object being read. Consume either `body` or `bytes()`, once. */
export interface ObjectBody extends ObjectInfo {
  /** The resolved range when one was asked for (`size` stays the whole object's size). */
  range?: { offset: number; length: number };
  body: ReadableStream<Uint8Array>;
  bytes(): Promise<Uint8Array>;
}

export interface PutOptions {
  customMetadata?: Record<string, string>;
  /**
   * Create-only: when the key already exists nothing is written and put returns null. After a
   * lost response a retry also returns null — the object may be your own first attempt, so compare
   * `head(key)` (size, etag) before calling it a conflict.
   */
  ifAbsent?: boolean;
}

export interface ListOptions {
  /** Raw key prefix; end it with "/" to list one "directory" (see keys.ts). */
  prefix: string;
  /** Only keys strictly after this one. */
  startAfter?: string;
  /**
   * Page size, 1..LIST_MAX_LIMIT (default LIST_MAX_LIMIT). A page may hold fewer objects and still
   * be truncated (with metadata R2 returns at most LIST_METADATA_PAGE_LIMIT): follow `truncated`.
   */
  limit?: number;
  /**
   * Return each object's customMetadata (default true). false: `customMetadata` is `{}` and pages
   * can hold up to LIST_MAX_LIMIT objects instead of LIST_METADATA_PAGE_LIMIT.
   */
  includeMetadata?: boolean;
  /** Opaque continuation from the previous page. */
  cursor?: string;
}

export interface ListResult {
  /** In lexicographic order of the keys' code points (= UTF-8 byte order, R2's order). */
  objects: ObjectInfo[];
  /** Present when `truncated`: pass it back to get the next page. */
  cursor?: string;
  truncated: boolean;
}

export interface UploadedPart {
  partNumber: number;
  etag: string;
}

/**
 * A multipart upload: nothing is visible at `key` (get, head, list) until `complete`. R2's rules,
 * which the memory store enforces too:
 * * part numbers are 1..MULTIPART_MAX_PARTS; uploading a number again replaces that part;
 * * `complete(parts)` takes a non-empty list in ascending partNumber order without duplicates,
 *   each with the etag its latest upload returned (parts may skip numbers);
 * * every part but the last is ≥ MULTIPART_MIN_PART_SIZE (5 MiB) and all of them are the same
 *   size; the last part is no larger than the others (it may be smaller, even empty);
 * * a failed complete leaves the upload open (fix and retry, or abort); complete replaces an
 *   existing object (there is no create-only complete); a second complete or a complete after
 *   abort fails with STORAGE_NO_SUCH_UPLOAD; abort is idempotent and a no-op after complete.
 */
export interface MultipartUpload {
  readonly key: string;
  readonly uploadId: string;
  uploadPart(partNumber: number, body: Uint8Array): Promise<UploadedPart>;
  complete(parts: UploadedPart[]): Promise<ObjectInfo>;
  abort(): Promise<void>;
}

export interface MultipartOptions {
  customMetadata?: Record<string, string>;
}

/**
 * Object storage as ltx-edge uses it. Keys are 1..MAX_KEY_BYTES UTF-8 bytes; custom metadata is at
 * most MAX_METADATA_BYTES. Every failure is a StorageError.
 */
export interface ObjectStore {
  /** Writes `body` at `key` (replacing it unless `ifAbsent`); null only when `ifAbsent` found the key. */
  put(key: string, body: Uint8Array, opts?: PutOptions): Promise<ObjectInfo | null>;
  /** Reads the object or a range of it; null when the key does not exist. */
  get(key: string, range?: ByteRange): Promise<ObjectBody | null>;
  head(key: string): Promise<ObjectInfo | null>;
  /** Deletes keys (any number; missing ones are fine). */
  delete(keys: string | string[]): Promise<void>;
  list(opts: ListOptions): Promise<ListResult>;
  createMultipart(key: string, opts?: MultipartOptions): Promise<MultipartUpload>;
  /** Handle on an upload started earlier (e.g. to abort it after a restart); unknown ids fail on use. */
  resumeMultipart(key: string, uploadId: string): MultipartUpload;
}

/** R2: every multipart part but the last is at least 5 MiB. */
export const MULTIPART_MIN_PART_SIZE = 5 * 1024 * 1024;
/** R2: part numbers are 1..10,000. */
export const MULTIPART_MAX_PARTS = 10_000;
/** R2: at most 1,000 objects per list page. */
export const LIST_MAX_LIMIT = 1000;
/** R2: at most 100 objects per list page when metadata is included. */
export const LIST_METADATA_PAGE_LIMIT = 100;
/** R2: keys are at most 1,024 bytes of UTF-8. */
export const MAX_KEY_BYTES = 1024;
/** R2: custom metadata (keys + values) is at most 8 KiB. */
export const MAX_METADATA_BYTES = 8192;

/** Stable codes and whether retrying the same call can succeed. */
export const STORAGE_ERRORS = {
  STORAGE_UNAVAILABLE: true, // internal error, service unavailable, network lost, unknown failure
  STORAGE_TIMEOUT: true, // no answer in time: the operation may or may not have happened
  STORAGE_RATE_LIMITED: true, // too many requests (R2: ≤ 1 write/s per key)
  STORAGE_PRECONDITION: false, // a condition other than create-only did not hold
  STORAGE_INVALID_RANGE: false, // range starts at or past the end of the object
  STORAGE_INVALID_ARGUMENT: false, // bad key, range, limit, part number, metadata size, cursor
  STORAGE_MULTIPART_INVALID: false, // part list or part sizes break the multipart rules
  STORAGE_NO_SUCH_UPLOAD: false, // upload completed, aborted or unknown
  STORAGE_NOT_FOUND: false,
  STORAGE_MISCONFIGURED: false, // no such bucket, unauthorized
} as const;

export type StorageErrorCode = keyof typeof STORAGE_ERRORS;

/** The only error an ObjectStore throws. `retryable` follows from `code` (see STORAGE_ERRORS). */
export class StorageError extends Error {
  readonly code: StorageErrorCode;
  readonly retryable: boolean;
  /** The store operation, e.g. "put" or "uploadPart". */
  readonly op?: string;
  readonly key?: string;

  constructor(code: StorageErrorCode, message: string, opts: { op?: string; key?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'StorageError';
    this.code = code;
    this.retryable = STORAGE_ERRORS[code];
    if (opts.op !== undefined) this.op = opts.op;
    if (opts.key !== undefined) this.key = opts.key;
  }
}

/** True for a StorageError (of `code`, when given). */
export function isStorageError(err: unknown, code?: StorageErrorCode): err is StorageError {
  return err instanceof StorageError && (code === undefined || err.code === code);
}

/** True when retrying can help: a retryable StorageError. */
export function isRetryable(err: unknown): boolean {
  return err instanceof StorageError && err.retryable;
}
