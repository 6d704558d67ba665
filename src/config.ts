// Configuration: DEFAULT_* values and resolveConfig(env), which validates vars and tokens (DESIGN §2, §4b).

import { parseDuration } from './api/duration.ts';
import { MAX_REGISTRY_SHARDS } from './registry/shard-of.ts';

/** Storage prefix of every R2 key: `<prefix>/<name>/<level>/...`. "db" matches Litestream's layout (DESIGN §2). */
export const DEFAULT_PREFIX = 'db';

/**
 * Compaction interval of levels 1, 2, 3, ... in milliseconds: L1 every 1 min, L2 every 5 min, L3
 * every hour (DESIGN §2). 1 min is also the cron minimum, so L1 runs on every tick.
 */
export const DEFAULT_LEVEL_INTERVALS_MS: readonly number[] = [60_000, 300_000, 3_600_000];

/** How often a level-9 snapshot is written, in milliseconds (24 h): bounds restore work to one day of deltas. */
export const DEFAULT_SNAPSHOT_INTERVAL_MS = 86_400_000;

/** How long snapshots (and the levels they cover) are kept, in milliseconds (24 h): one day of point-in-time history. */
export const DEFAULT_SNAPSHOT_RETENTION_MS = 86_400_000;

/** How long an L0 file is kept after L1 covers it, in milliseconds (5 min): lets `changes` and cached plans finish. */
export const DEFAULT_L0_RETENTION_MS = 300_000;
/** Files a plan handed out within this window are not deleted by retention (in-flight reads), ms. */
export const DEFAULT_READ_GRACE_MS = 60_000;

/**
 * The one memory budget of a Worker isolate's read caches (MiB): page indexes, shared b-tree pages
 * and the page memory of running queries all live inside it (src/read/read-caches.ts). 48 MiB leaves
 * a 128 MB isolate room for the SQLite heap (≤ 64 MiB, but rarely above 20) and requests in flight.
 */
export const DEFAULT_READ_CACHE_MIB = 48;
/** Bounds of LTX_EDGE_READ_CACHE_MIB: under 8 the caches thrash, over 96 the isolate runs out of memory. */
export const READ_CACHE_MIB_RANGE = [8, 96] as const;

/**
 * Largest database accepted, in bytes (1 GiB): every commit's size (page size × pages) is checked
 * against it. It is what one Durable Object can snapshot and compact within a maintenance pass:
 * the merge re-encodes every page (LZ4 + CRC-64), measured at ~66 MB/s, so a 1 GiB snapshot is
 * ~16 s of CPU, inside the DO's default 30 s CPU limit and DEFAULT_MAINTENANCE_BUDGET_MS.
 */
export const DEFAULT_MAX_DATABASE_BYTES = 1024 * 1024 * 1024;

/** A push or /tx body that sends no byte for this long is aborted with 408 (10 s). */
export const DEFAULT_UPLOAD_IDLE_MS = 10_000;
/** A push or /tx body still arriving after this long is aborted with 408 (10 min: 1 GiB at ~14 Mbit/s). */
export const DEFAULT_UPLOAD_TOTAL_MS = 600_000;

/** Wall time one database's maintenance may take per cron tick (60 s); past it the pass stops and backs off. */
export const DEFAULT_MAINTENANCE_BUDGET_MS = 60_000;

/** Registry shards (LTX_EDGE_REGISTRY_SHARDS): grow it, never shrink it (README "Registry shards"). */
export const DEFAULT_REGISTRY_SHARDS = 16;

/** Watchers one database serves at once (GET …/watch; LTX_EDGE_WATCHERS_PER_DATABASE), and the range accepted. */
export const DEFAULT_WATCHERS_PER_DATABASE = 1000;
export const WATCHERS_PER_DATABASE_RANGE = [1, 32_768] as const;

/** Highest compaction level; 9 is reserved for snapshots (DESIGN §2). */
export const MAX_COMPACTION_LEVELS = 8;

/** Shortest LTX_EDGE_LINK_SECRET accepted (characters). */
export const MIN_LINK_SECRET_LENGTH = 32;

/** Longest accepted prefix, in characters; R2 keys are limited to 1024 bytes and the rest needs room. */
export const MAX_PREFIX_LENGTH = 256;

/** Token scopes (DESIGN §4). */
export const SCOPES = ['read', 'write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** A token's database entry: a name, or a glob where `*` matches any run of name characters. */
const DATABASE_PATTERN = /^[a-z0-9*][a-z0-9._*-]{0,62}$/;

/** One API token (DESIGN §4b). `databases` is "*" or an explicit list of names. */
export interface TokenSpec {
  token: string;
  scopes: Scope[];
  databases: '*' | string[];
}

/** The vars resolveConfig reads; all optional strings, as the runtime delivers them. */
export interface ConfigVars {
  LTX_EDGE_ENV?: string;
  LTX_EDGE_TOKENS?: string;
  LTX_EDGE_PREFIX?: string;
  LTX_EDGE_LEVELS?: string;
  LTX_EDGE_SNAPSHOT_INTERVAL?: string;
  LTX_EDGE_SNAPSHOT_RETENTION?: string;
  LTX_EDGE_L0_RETENTION?: string;
  LTX_EDGE_READ_GRACE?: string;
  LTX_EDGE_READ_CACHE_MIB?: string;
  LTX_EDGE_MAX_DATABASE_BYTES?: string;
  LTX_EDGE_UPLOAD_IDLE_TIMEOUT?: string;
  LTX_EDGE_UPLOAD_TIMEOUT?: string;
  LTX_EDGE_MAINTENANCE_BUDGET?: string;
  LTX_EDGE_LINK_SECRET?: string;
  LTX_EDGE_CORS_ORIGINS?: string;
  LTX_EDGE_WATCHERS_PER_DATABASE?: string;
  LTX_EDGE_REGISTRY_SHARDS?: string;
}

/** Resolved, validated configuration. Durations are milliseconds. */
export interface Config {
  /** "development" only when LTX_EDGE_ENV says so; anything unset is production. */
  environment: 'development' | 'production';
  prefix: string;
  /** Compaction interval per level: index 0 is level 1. Strictly increasing, at most 8. */
  levelIntervalsMs: number[];
  snapshotIntervalMs: number;
  snapshotRetentionMs: number;
  l0RetentionMs: number;
  /** How long a file retention made redundant stays for reads holding a plan (LTX_EDGE_READ_GRACE). */
  readGraceMs: number;
  /** The isolate's read-cache budget in bytes (LTX_EDGE_READ_CACHE_MIB). */
  readCacheBytes: number;
  /** Largest database size accepted from any write (LTX_EDGE_MAX_DATABASE_BYTES). */
  maxDatabaseBytes: number;
  /** Upload deadlines: no byte for `uploadIdleMs`, or still arriving after `uploadTotalMs` → 408. */
  uploadIdleMs: number;
  uploadTotalMs: number;
  /** One database's maintenance wall time per pass (LTX_EDGE_MAINTENANCE_BUDGET). */
  maintenanceBudgetMs: number;
  /** The HMAC key of read links (LTX_EDGE_LINK_SECRET); null: links can be neither minted nor served. */
  linkSecret: string | null;
  /** Origins the token-authenticated /v1 routes answer CORS requests from (LTX_EDGE_CORS_ORIGINS): none by default, `*` for any. */
  corsOrigins: string[];
  /** Most GET …/watch streams one database serves at once (LTX_EDGE_WATCHERS_PER_DATABASE). */
  watchersPerDatabase: number;
  /** How many RegistryDO shards hold the list of databases (LTX_EDGE_REGISTRY_SHARDS). */
  registryShards: number;
  tokens: TokenSpec[];
  /**
   * Null when the Worker may serve. Otherwise why it must refuse: every route but /v1/health
   * answers 503 NOT_CONFIGURED (production without tokens, DESIGN §4b).
   */
  notConfigured: string | null;
}

export type ConfigErrorCode =
  | 'INVALID_ENV'
  | 'INVALID_PREFIX'
  | 'INVALID_DURATION'
  | 'INVALID_LEVELS'
  | 'INVALID_TOKENS'
  | 'INVALID_READ_CACHE'
  | 'INVALID_SIZE'
  | 'INVALID_LINK_SECRET'
  | 'INVALID_CORS_ORIGINS'
  | 'INVALID_WATCHERS'
  | 'INVALID_REGISTRY_SHARDS';

/** A var that cannot be used. `variable` names it; `code` is stable, `message` is for humans. */
export class ConfigError extends Error {
  readonly code: ConfigErrorCode;
  readonly variable: keyof ConfigVars;

  constructor(code: ConfigErrorCode, variable: keyof ConfigVars, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
    this.code = code;
    this.variable = variable;
  }
}

/** Resolves env vars into a validated Config; throws ConfigError on the first bad value. */
export function resolveConfig(env: ConfigVars): Config {
  const environment = resolveEnvironment(env.LTX_EDGE_ENV);
  const tokens = parseTokens(env.LTX_EDGE_TOKENS);
  const notConfigured =
    environment === 'production' && tokens.length === 0 ? 'no API tokens configured: set the LTX_EDGE_TOKENS secret (DESIGN §4b)' : null;
  return {
    environment,
    prefix: parsePrefix(env.LTX_EDGE_PREFIX),
    levelIntervalsMs: parseLevels(env.LTX_EDGE_LEVELS),
    snapshotIntervalMs: durationVar(env, 'LTX_EDGE_SNAPSHOT_INTERVAL', DEFAULT_SNAPSHOT_INTERVAL_MS, false),
    snapshotRetentionMs: durationVar(env, 'LTX_EDGE_SNAPSHOT_RETENTION', DEFAULT_SNAPSHOT_RETENTION_MS, false),
    l0RetentionMs: durationVar(env, 'LTX_EDGE_L0_RETENTION', DEFAULT_L0_RETENTION_MS, true),
    readGraceMs: durationVar(env, 'LTX_EDGE_READ_GRACE', DEFAULT_READ_GRACE_MS, true),
    readCacheBytes: parseReadCacheMiB(env.LTX_EDGE_READ_CACHE_MIB) * 1024 * 1024,
    maxDatabaseBytes: parseByteSize(env.LTX_EDGE_MAX_DATABASE_BYTES),
    uploadIdleMs: durationVar(env, 'LTX_EDGE_UPLOAD_IDLE_TIMEOUT', DEFAULT_UPLOAD_IDLE_MS, false),
    uploadTotalMs: durationVar(env, 'LTX_EDGE_UPLOAD_TIMEOUT', DEFAULT_UPLOAD_TOTAL_MS, false),
    maintenanceBudgetMs: durationVar(env, 'LTX_EDGE_MAINTENANCE_BUDGET', DEFAULT_MAINTENANCE_BUDGET_MS, false),
    linkSecret: parseLinkSecret(env.LTX_EDGE_LINK_SECRET),
    corsOrigins: parseCorsOrigins(env.LTX_EDGE_CORS_ORIGINS),
    watchersPerDatabase: parseWatchers(env.LTX_EDGE_WATCHERS_PER_DATABASE),
    registryShards: parseRegistryShards(env.LTX_EDGE_REGISTRY_SHARDS),
    tokens,
    notConfigured,
  };
}

function parseReadCacheMiB(value: string | undefined): number {
  if (isUnset(value)) return DEFAULT_READ_CACHE_MIB;
  const [lo, hi] = READ_CACHE_MIB_RANGE;
  const n = Number(value.trim());
  if (!Number.isInteger(n) || n < lo || n > hi) {
    throw new ConfigError(
      'INVALID_READ_CACHE',
      'LTX_EDGE_READ_CACHE_MIB',
      `expected a whole number of MiB from ${lo} to ${hi}, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

function parseRegistryShards(value: string | undefined): number {
  if (isUnset(value)) return DEFAULT_REGISTRY_SHARDS;
  const n = Number(value.trim());
  if (!Number.isInteger(n) || n < 1 || n > MAX_REGISTRY_SHARDS) {
    throw new ConfigError(
      'INVALID_REGISTRY_SHARDS',
      'LTX_EDGE_REGISTRY_SHARDS',
      `expected a whole number from 1 to ${MAX_REGISTRY_SHARDS}, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

function parseWatchers(value: string | undefined): number {
  if (isUnset(value)) return DEFAULT_WATCHERS_PER_DATABASE;
  const [lo, hi] = WATCHERS_PER_DATABASE_RANGE;
  const n = Number(value.trim());
  if (!Number.isInteger(n) || n < lo || n > hi) {
    throw new ConfigError(
      'INVALID_WATCHERS',
      'LTX_EDGE_WATCHERS_PER_DATABASE',
      `expected a whole number from ${lo} to ${hi}, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

const SIZE_UNITS: Record<string, number> = { '': 1, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 };

/** LTX_EDGE_MAX_DATABASE_BYTES: bytes, or a whole number of KiB/MiB/GiB/TiB ("512MiB"); at least one 64 KiB page. */
function parseByteSize(value: string | undefined): number {
  if (isUnset(value)) return DEFAULT_MAX_DATABASE_BYTES;
  const m = /^(\d+)\s*(kib|mib|gib|tib)?$/i.exec(value.trim());
  const bytes = m ? Number(m[1]) * SIZE_UNITS[(m[2] ?? '').toLowerCase()] : NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 65_536) {
    throw new ConfigError(
      'INVALID_SIZE',
      'LTX_EDGE_MAX_DATABASE_BYTES',
      `expected bytes (at least 65536) or a size like "512MiB" or "1GiB", got ${JSON.stringify(value)}`,
    );
  }
  return bytes;
}

/** LTX_EDGE_LINK_SECRET: at least MIN_LINK_SECRET_LENGTH characters (32 random bytes in hex or base64 is plenty); unset = no links. */
function parseLinkSecret(value: string | undefined): string | null {
  if (isUnset(value)) return null;
  const secret = value.trim();
  if (secret.length < MIN_LINK_SECRET_LENGTH) {
    throw new ConfigError(
      'INVALID_LINK_SECRET',
      'LTX_EDGE_LINK_SECRET',
      `at least ${MIN_LINK_SECRET_LENGTH} characters, got ${secret.length} (try: openssl rand -hex 32)`,
    );
  }
  return secret;
}

/** LTX_EDGE_CORS_ORIGINS: `*`, or comma-separated origins such as "https://app.example.com, http://localhost:5173". */
function parseCorsOrigins(value: string | undefined): string[] {
  if (isUnset(value)) return [];
  const origins = value
    .split(',')
    .map((o) => o.trim())
    .filter((o) => o !== '');
  for (const origin of origins) {
    if (origin === '*') continue;
    let canonical: string | undefined;
    try {
      const url = new URL(origin);
      canonical = (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === origin ? url.origin : undefined;
    } catch {
      canonical = undefined;
    }
    if (canonical === undefined) {
      throw new ConfigError(
        'INVALID_CORS_ORIGINS',
        'LTX_EDGE_CORS_ORIGINS',
        `${JSON.stringify(origin)} is not an origin like "https://app.example.com" (scheme, host, optional port; no path or trailing "/")`,
      );
    }
  }
  return origins;
}

function isUnset(value: string | undefined): value is undefined {
  return value === undefined || value.trim() === '';
}

function resolveEnvironment(value: string | undefined): Config['environment'] {
  if (isUnset(value)) return 'production';
  const v = value.trim();
  if (v === 'development' || v === 'production') return v;
  throw new ConfigError('INVALID_ENV', 'LTX_EDGE_ENV', `expected "development" or "production", got ${JSON.stringify(v)}`);
}

const PREFIX_SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/** A prefix is one or more "/"-separated segments; no empty, "." or ".." segments, no leading/trailing "/". */
function parsePrefix(value: string | undefined): string {
  if (isUnset(value)) return DEFAULT_PREFIX;
  const prefix = value.trim();
  const bad = (why: string): never => {
    throw new ConfigError('INVALID_PREFIX', 'LTX_EDGE_PREFIX', `${JSON.stringify(prefix)}: ${why}`);
  };
  if (prefix.length > MAX_PREFIX_LENGTH) bad(`longer than ${MAX_PREFIX_LENGTH} characters`);
  for (const segment of prefix.split('/')) {
    if (segment === '') bad('empty path segment (leading, trailing or double "/")');
    if (segment === '.' || segment === '..' || !PREFIX_SEGMENT.test(segment)) {
      bad(`segment ${JSON.stringify(segment)} must match ${PREFIX_SEGMENT.source} and not be "." or ".."`);
    }
  }
  return prefix;
}

function durationVar(env: ConfigVars, name: keyof ConfigVars, fallback: number, allowZero: boolean): number {
  const raw = env[name];
  if (isUnset(raw)) return fallback;
  const ms = parseDuration(raw.trim());
  if (ms === null) throw new ConfigError('INVALID_DURATION', name, `${JSON.stringify(raw)} is not a duration like "5m" or "24h"`);
  if (ms === 0 && !allowZero) throw new ConfigError('INVALID_DURATION', name, 'must be greater than zero');
  return ms;
}

/** "1m,5m,1h" → [60000, 300000, 3600000]: 1..8 positive, strictly increasing intervals. */
function parseLevels(value: string | undefined): number[] {
  if (isUnset(value)) return [...DEFAULT_LEVEL_INTERVALS_MS];
  const parts = value.split(',').map((p) => p.trim());
  if (parts.length > MAX_COMPACTION_LEVELS) {
    throw new ConfigError('INVALID_LEVELS', 'LTX_EDGE_LEVELS', `at most ${MAX_COMPACTION_LEVELS} levels, got ${parts.length}`);
  }
  const intervals: number[] = [];
  for (const part of parts) {
    const ms = parseDuration(part);
    if (ms === null || ms === 0) {
      throw new ConfigError('INVALID_LEVELS', 'LTX_EDGE_LEVELS', `${JSON.stringify(part)} is not a positive duration`);
    }
    const previous = intervals[intervals.length - 1];
    if (previous !== undefined && ms <= previous) {
      throw new ConfigError('INVALID_LEVELS', 'LTX_EDGE_LEVELS', 'intervals must strictly increase with the level');
    }
    intervals.push(ms);
  }
  return intervals;
}

/** Parses LTX_EDGE_TOKENS: a JSON array of {token, scopes, databases} (DESIGN §4b). Unset → []. */
function parseTokens(value: string | undefined): TokenSpec[] {
  if (isUnset(value)) return [];
  const bad = (why: string): never => {
    // Never echo token values: the message may end up in logs or a 503 body.
    throw new ConfigError('INVALID_TOKENS', 'LTX_EDGE_TOKENS', why);
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return bad('not valid JSON');
  }
  if (!Array.isArray(parsed)) return bad('expected a JSON array of {token, scopes, databases}');
  const seen = new Set<string>();
  return parsed.map((entry: unknown, i): TokenSpec => {
    const at = `entry ${i}`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return bad(`${at}: expected an object`);
    const { token, scopes, databases } = entry as Record<string, unknown>;
    if (typeof token !== 'string' || token === '' || /\s/.test(token))
      return bad(`${at}: token must be a non-empty string without whitespace`);
    if (seen.has(token)) return bad(`${at}: duplicate token`);
    seen.add(token);
    if (!Array.isArray(scopes) || scopes.length === 0) return bad(`${at}: scopes must be a non-empty array`);
    for (const scope of scopes) {
      if (!(SCOPES as readonly unknown[]).includes(scope)) return bad(`${at}: unknown scope ${JSON.stringify(scope)}`);
    }
    let dbs: TokenSpec['databases'];
    if (databases === '*') {
      dbs = '*';
    } else if (Array.isArray(databases) && databases.length > 0) {
      for (const name of databases) {
        if (typeof name !== 'string' || !DATABASE_PATTERN.test(name) || name.includes('..'))
          return bad(`${at}: invalid database name or pattern ${JSON.stringify(name)}`);
      }
      dbs = [...new Set(databases as string[])];
    } else {
      return bad(`${at}: databases must be "*" or a non-empty array of names`);
    }
    return { token, scopes: [...new Set(scopes as Scope[])], databases: dbs };
  });
}
