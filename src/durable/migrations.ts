// The DatabaseDO's schema: migrations/NNNN_*.sql, bundled as text modules (wrangler.toml [[rules]]).
import catalog0001 from '../../migrations/0001_catalog.sql';
import pageWriter0002 from '../../migrations/0002_page_writer.sql';
import filesKey0003 from '../../migrations/0003_files_key.sql';
import stats0004 from '../../migrations/0004_stats.sql';
import incarnation0005 from '../../migrations/0005_incarnation.sql';
import snapshotJob0006 from '../../migrations/0006_snapshot_job.sql';
import indexBytes0007 from '../../migrations/0007_index_bytes.sql';
import type { Migration } from './migrate.ts';

export const DATABASE_MIGRATIONS: readonly Migration[] = [
  { version: 1, name: '0001_catalog', sql: catalog0001 },
  { version: 2, name: '0002_page_writer', sql: pageWriter0002 },
  { version: 3, name: '0003_files_key', sql: filesKey0003 },
  { version: 4, name: '0004_stats', sql: stats0004 },
  { version: 5, name: '0005_incarnation', sql: incarnation0005 },
  { version: 6, name: '0006_snapshot_job', sql: snapshotJob0006 },
  { version: 7, name: '0007_index_bytes', sql: indexBytes0007 },
];
