// resolveConfig: defaults, good values, and every bad value → its ConfigError code.
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  DEFAULT_L0_RETENTION_MS,
  DEFAULT_READ_GRACE_MS,
  DEFAULT_LEVEL_INTERVALS_MS,
  DEFAULT_MAINTENANCE_BUDGET_MS,
  DEFAULT_MAX_DATABASE_BYTES,
  DEFAULT_UPLOAD_IDLE_MS,
  DEFAULT_UPLOAD_TOTAL_MS,
  DEFAULT_PREFIX,
  DEFAULT_READ_CACHE_MIB,
  DEFAULT_SNAPSHOT_INTERVAL_MS,
  DEFAULT_SNAPSHOT_RETENTION_MS,
  resolveConfig,
} from '../../src/config.ts';
import type { ConfigErrorCode, ConfigVars } from '../../src/config.ts';

const DEV_TOKENS = JSON.stringify([{ token: 'dev-token', scopes: ['read', 'write', 'admin'], databases: '*' }]);

function codeOf(vars: ConfigVars): ConfigErrorCode | 'none' {
  try {
    resolveConfig(vars);
    return 'none';
  } catch (err) {
    if (err instanceof ConfigError) return err.code;
    throw err;
  }
}

describe('resolveConfig', () => {
  it('uses the DESIGN §2 defaults when nothing is set (and refuses to serve in production)', () => {
    const config = resolveConfig({});
    expect(config).toEqual({
      environment: 'production',
      prefix: DEFAULT_PREFIX,
      levelIntervalsMs: [...DEFAULT_LEVEL_INTERVALS_MS],
      snapshotIntervalMs: DEFAULT_SNAPSHOT_INTERVAL_MS,
      snapshotRetentionMs: DEFAULT_SNAPSHOT_RETENTION_MS,
      l0RetentionMs: DEFAULT_L0_RETENTION_MS,
      readGraceMs: DEFAULT_READ_GRACE_MS,
      readCacheBytes: DEFAULT_READ_CACHE_MIB * 1024 * 1024,
      maxDatabaseBytes: DEFAULT_MAX_DATABASE_BYTES,
      uploadIdleMs: DEFAULT_UPLOAD_IDLE_MS,
      uploadTotalMs: DEFAULT_UPLOAD_TOTAL_MS,
      maintenanceBudgetMs: DEFAULT_MAINTENANCE_BUDGET_MS,
      linkSecret: null,
      corsOrigins: [],
      watchersPerDatabase: 1000,
      registryShards: 16,
      tokens: [],
      notConfigured: expect.any(String),
    });
    expect(DEFAULT_PREFIX).toBe('db');
    expect(DEFAULT_LEVEL_INTERVALS_MS).toEqual([60_000, 300_000, 3_600_000]);
    expect([DEFAULT_MAX_DATABASE_BYTES, DEFAULT_UPLOAD_IDLE_MS, DEFAULT_UPLOAD_TOTAL_MS, DEFAULT_MAINTENANCE_BUDGET_MS]).toEqual([
      2 ** 30,
      10_000,
      600_000,
      60_000,
    ]);
  });

  it('parses the wrangler.toml vars and the .dev.vars token', () => {
    const config = resolveConfig({
      LTX_EDGE_ENV: 'development',
      LTX_EDGE_TOKENS: DEV_TOKENS,
      LTX_EDGE_PREFIX: 'db',
      LTX_EDGE_LEVELS: '1m,5m,1h',
      LTX_EDGE_SNAPSHOT_INTERVAL: '24h',
      LTX_EDGE_SNAPSHOT_RETENTION: '24h',
      LTX_EDGE_L0_RETENTION: '5m',
    });
    expect(config).toEqual({
      environment: 'development',
      prefix: 'db',
      levelIntervalsMs: [60_000, 300_000, 3_600_000],
      snapshotIntervalMs: 86_400_000,
      snapshotRetentionMs: 86_400_000,
      l0RetentionMs: 300_000,
      readGraceMs: 60_000,
      readCacheBytes: 48 * 1024 * 1024,
      maxDatabaseBytes: 2 ** 30,
      uploadIdleMs: 10_000,
      uploadTotalMs: 600_000,
      maintenanceBudgetMs: 60_000,
      linkSecret: null,
      corsOrigins: [],
      watchersPerDatabase: 1000,
      registryShards: 16,
      tokens: [{ token: 'dev-token', scopes: ['read', 'write', 'admin'], databases: '*' }],
      notConfigured: null,
    });
  });

  it('serves in production once tokens exist', () => {
    const config = resolveConfig({ LTX_EDGE_TOKENS: DEV_TOKENS });
    expect(config.environment).toBe('production');
    expect(config.notConfigured).toBeNull();
  });

  it('serves in development without tokens, and refuses in production with an empty list', () => {
    expect(resolveConfig({ LTX_EDGE_ENV: 'development' }).notConfigured).toBeNull();
    expect(resolveConfig({ LTX_EDGE_TOKENS: '[]' }).notConfigured).toEqual(expect.any(String));
  });

  it.each([
    ['nested prefix', { LTX_EDGE_PREFIX: 'tenants/acme_1/db' }, { prefix: 'tenants/acme_1/db' }],
    ['one level', { LTX_EDGE_LEVELS: '10m' }, { levelIntervalsMs: [600_000] }],
    ['eight levels', { LTX_EDGE_LEVELS: '1m,2m,3m,4m,5m,6m,7m,8m' }, { levelIntervalsMs: [1, 2, 3, 4, 5, 6, 7, 8].map((m) => m * 60_000) }],
    ['levels with spaces', { LTX_EDGE_LEVELS: '1m, 5m, 1h' }, { levelIntervalsMs: [60_000, 300_000, 3_600_000] }],
    ['L0 kept zero', { LTX_EDGE_L0_RETENTION: '0' }, { l0RetentionMs: 0 }],
    ['no read grace', { LTX_EDGE_READ_GRACE: '0' }, { readGraceMs: 0 }],
    ['read cache at its bounds', { LTX_EDGE_READ_CACHE_MIB: '8' }, { readCacheBytes: 8 * 1024 * 1024 }],
    ['read cache at its top', { LTX_EDGE_READ_CACHE_MIB: ' 96 ' }, { readCacheBytes: 96 * 1024 * 1024 }],
    ['size cap in bytes', { LTX_EDGE_MAX_DATABASE_BYTES: '65536' }, { maxDatabaseBytes: 65_536 }],
    ['size cap in MiB', { LTX_EDGE_MAX_DATABASE_BYTES: '512MiB' }, { maxDatabaseBytes: 512 * 2 ** 20 }],
    ['size cap in GiB, any case, spaced', { LTX_EDGE_MAX_DATABASE_BYTES: ' 4 gib ' }, { maxDatabaseBytes: 4 * 2 ** 30 }],
    [
      'upload deadlines',
      { LTX_EDGE_UPLOAD_IDLE_TIMEOUT: '2s', LTX_EDGE_UPLOAD_TIMEOUT: '1h' },
      { uploadIdleMs: 2_000, uploadTotalMs: 3_600_000 },
    ],
    ['maintenance budget', { LTX_EDGE_MAINTENANCE_BUDGET: '5m' }, { maintenanceBudgetMs: 300_000 }],
    ['blank var means default', { LTX_EDGE_PREFIX: '  ' }, { prefix: 'db' }],
    [
      'token limited to names, scopes deduplicated',
      { LTX_EDGE_TOKENS: JSON.stringify([{ token: 't1', scopes: ['read', 'read'], databases: ['orders', 'a.b-c_d'] }]) },
      { tokens: [{ token: 't1', scopes: ['read'], databases: ['orders', 'a.b-c_d'] }] },
    ],
  ])('%s', (_name, vars: ConfigVars, expected) => {
    expect(resolveConfig(vars)).toMatchObject(expected);
  });

  const token = (t: Record<string, unknown>) => JSON.stringify([{ token: 'ok', scopes: ['read'], databases: '*', ...t }]);

  it.each<[string, ConfigVars, ConfigErrorCode]>([
    ['unknown environment', { LTX_EDGE_ENV: 'dev' }, 'INVALID_ENV'],
    ['prefix with leading slash', { LTX_EDGE_PREFIX: '/db' }, 'INVALID_PREFIX'],
    ['prefix with trailing slash', { LTX_EDGE_PREFIX: 'db/' }, 'INVALID_PREFIX'],
    ['prefix with double slash', { LTX_EDGE_PREFIX: 'a//b' }, 'INVALID_PREFIX'],
    ['prefix with ..', { LTX_EDGE_PREFIX: 'a/../b' }, 'INVALID_PREFIX'],
    ['prefix with .', { LTX_EDGE_PREFIX: './db' }, 'INVALID_PREFIX'],
    ['prefix with space', { LTX_EDGE_PREFIX: 'my db' }, 'INVALID_PREFIX'],
    ['prefix too long', { LTX_EDGE_PREFIX: 'a'.repeat(257) }, 'INVALID_PREFIX'],
    ['snapshot interval not a duration', { LTX_EDGE_SNAPSHOT_INTERVAL: 'daily' }, 'INVALID_DURATION'],
    ['snapshot interval zero', { LTX_EDGE_SNAPSHOT_INTERVAL: '0' }, 'INVALID_DURATION'],
    ['snapshot retention negative', { LTX_EDGE_SNAPSHOT_RETENTION: '-1h' }, 'INVALID_DURATION'],
    ['L0 retention without unit', { LTX_EDGE_L0_RETENTION: '300' }, 'INVALID_DURATION'],
    ['levels not durations', { LTX_EDGE_LEVELS: '1m,five' }, 'INVALID_LEVELS'],
    ['levels with empty entry', { LTX_EDGE_LEVELS: '1m,,1h' }, 'INVALID_LEVELS'],
    ['levels not increasing', { LTX_EDGE_LEVELS: '5m,1m' }, 'INVALID_LEVELS'],
    ['levels equal', { LTX_EDGE_LEVELS: '5m,5m' }, 'INVALID_LEVELS'],
    ['level zero', { LTX_EDGE_LEVELS: '0,1m' }, 'INVALID_LEVELS'],
    ['nine levels', { LTX_EDGE_LEVELS: '1m,2m,3m,4m,5m,6m,7m,8m,9m' }, 'INVALID_LEVELS'],
    ['read cache too small', { LTX_EDGE_READ_CACHE_MIB: '7' }, 'INVALID_READ_CACHE'],
    ['read cache too large', { LTX_EDGE_READ_CACHE_MIB: '97' }, 'INVALID_READ_CACHE'],
    ['read cache not whole MiB', { LTX_EDGE_READ_CACHE_MIB: '48.5' }, 'INVALID_READ_CACHE'],
    ['read cache with a unit', { LTX_EDGE_READ_CACHE_MIB: '48MiB' }, 'INVALID_READ_CACHE'],
    ['size cap below one 64 KiB page', { LTX_EDGE_MAX_DATABASE_BYTES: '65535' }, 'INVALID_SIZE'],
    ['size cap with a decimal unit', { LTX_EDGE_MAX_DATABASE_BYTES: '1GB' }, 'INVALID_SIZE'],
    ['size cap fractional', { LTX_EDGE_MAX_DATABASE_BYTES: '1.5GiB' }, 'INVALID_SIZE'],
    ['size cap negative', { LTX_EDGE_MAX_DATABASE_BYTES: '-1' }, 'INVALID_SIZE'],
    ['size cap past 2^53', { LTX_EDGE_MAX_DATABASE_BYTES: '9999999TiB' }, 'INVALID_SIZE'],
    ['upload idle timeout zero', { LTX_EDGE_UPLOAD_IDLE_TIMEOUT: '0' }, 'INVALID_DURATION'],
    ['upload timeout not a duration', { LTX_EDGE_UPLOAD_TIMEOUT: '10' }, 'INVALID_DURATION'],
    ['maintenance budget zero', { LTX_EDGE_MAINTENANCE_BUDGET: '0' }, 'INVALID_DURATION'],
    ['link secret too short', { LTX_EDGE_LINK_SECRET: 'x'.repeat(31) }, 'INVALID_LINK_SECRET'],
    ['CORS origin with a path', { LTX_EDGE_CORS_ORIGINS: 'https://a.example/app' }, 'INVALID_CORS_ORIGINS'],
    ['CORS origin with a trailing slash', { LTX_EDGE_CORS_ORIGINS: 'https://a.example/' }, 'INVALID_CORS_ORIGINS'],
    ['CORS origin without a scheme', { LTX_EDGE_CORS_ORIGINS: 'a.example' }, 'INVALID_CORS_ORIGINS'],
    ['CORS origin of another scheme', { LTX_EDGE_CORS_ORIGINS: 'ftp://a.example' }, 'INVALID_CORS_ORIGINS'],
    ['watchers zero', { LTX_EDGE_WATCHERS_PER_DATABASE: '0' }, 'INVALID_WATCHERS'],
    ['registry shards zero', { LTX_EDGE_REGISTRY_SHARDS: '0' }, 'INVALID_REGISTRY_SHARDS'],
    ['registry shards past 1024', { LTX_EDGE_REGISTRY_SHARDS: '1025' }, 'INVALID_REGISTRY_SHARDS'],
    ['registry shards not a number', { LTX_EDGE_REGISTRY_SHARDS: 'many' }, 'INVALID_REGISTRY_SHARDS'],
    ['watchers past the DO socket limit', { LTX_EDGE_WATCHERS_PER_DATABASE: '32769' }, 'INVALID_WATCHERS'],
    ['watchers not a whole number', { LTX_EDGE_WATCHERS_PER_DATABASE: '10.5' }, 'INVALID_WATCHERS'],
    ['tokens not JSON', { LTX_EDGE_TOKENS: 'dev-token' }, 'INVALID_TOKENS'],
    ['tokens not an array', { LTX_EDGE_TOKENS: '{"token":"x"}' }, 'INVALID_TOKENS'],
    ['token entry not an object', { LTX_EDGE_TOKENS: '["x"]' }, 'INVALID_TOKENS'],
    ['token empty', { LTX_EDGE_TOKENS: token({ token: '' }) }, 'INVALID_TOKENS'],
    ['token with whitespace', { LTX_EDGE_TOKENS: token({ token: 'a b' }) }, 'INVALID_TOKENS'],
    [
      'token duplicated',
      {
        LTX_EDGE_TOKENS: JSON.stringify([
          { token: 'x', scopes: ['read'], databases: '*' },
          { token: 'x', scopes: ['admin'], databases: '*' },
        ]),
      },
      'INVALID_TOKENS',
    ],
    ['scopes missing', { LTX_EDGE_TOKENS: token({ scopes: undefined }) }, 'INVALID_TOKENS'],
    ['scopes empty', { LTX_EDGE_TOKENS: token({ scopes: [] }) }, 'INVALID_TOKENS'],
    ['scope unknown', { LTX_EDGE_TOKENS: token({ scopes: ['read', 'root'] }) }, 'INVALID_TOKENS'],
    ['databases missing', { LTX_EDGE_TOKENS: token({ databases: undefined }) }, 'INVALID_TOKENS'],
    ['databases empty', { LTX_EDGE_TOKENS: token({ databases: [] }) }, 'INVALID_TOKENS'],
    ['databases other string', { LTX_EDGE_TOKENS: token({ databases: 'orders' }) }, 'INVALID_TOKENS'],
    ['database name invalid', { LTX_EDGE_TOKENS: token({ databases: ['Orders'] }) }, 'INVALID_TOKENS'],
    ['database name with ..', { LTX_EDGE_TOKENS: token({ databases: ['a..b'] }) }, 'INVALID_TOKENS'],
  ])('%s → %s', (_name, vars, code) => {
    expect(codeOf(vars)).toBe(code);
  });

  it('link secret and CORS origins: unset → none; set → as given', () => {
    const none = resolveConfig({});
    expect(none.linkSecret).toBeNull();
    expect(none.corsOrigins).toEqual([]);
    const set = resolveConfig({
      LTX_EDGE_LINK_SECRET: ` ${'s'.repeat(32)} `,
      LTX_EDGE_CORS_ORIGINS: 'https://a.example, http://localhost:5173,*',
    });
    expect(set.linkSecret).toBe('s'.repeat(32));
    expect(set.corsOrigins).toEqual(['https://a.example', 'http://localhost:5173', '*']);
  });

  it('watchers per database: 1000 unless set', () => {
    expect(resolveConfig({}).watchersPerDatabase).toBe(1000);
    expect(resolveConfig({ LTX_EDGE_WATCHERS_PER_DATABASE: ' 25 ' }).watchersPerDatabase).toBe(25);
  });

  it('registry shards: 16 unless set', () => {
    expect(resolveConfig({}).registryShards).toBe(16);
    expect(resolveConfig({ LTX_EDGE_REGISTRY_SHARDS: '64' }).registryShards).toBe(64);
  });

  it('names the variable and never echoes token values', () => {
    const secret = 'super-secret-value';
    try {
      resolveConfig({ LTX_EDGE_TOKENS: JSON.stringify([{ token: secret, scopes: ['nope'], databases: '*' }]) });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).variable).toBe('LTX_EDGE_TOKENS');
      expect((err as ConfigError).message).not.toContain(secret);
    }
  });
});
