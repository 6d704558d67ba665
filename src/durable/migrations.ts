// The DatabaseDO's schema: migrations/NNNN_*.sql, bundled as text modules (wrangler.toml [[rules]]).
import catalog0001 from '../../migrations/0001_catalog.sql';
import type { Migration } from './migrate.ts';

export const DATABASE_MIGRATIONS: readonly Migration[] = [{ version: 1, name: '0001_catalog', sql: catalog0001 }];
