// Zod schemas of the API's JSON bodies (DESIGN §4) for the OpenAPI document, checked against the TypeScript types the code returns.

import { z } from '@hono/zod-openapi';
import { ERROR_STATUS } from '../errors.ts';
import type { ErrorCode } from '../errors.ts';
import type { DatabaseInfo, FileJSON } from '../durable/info.ts';
import type { RegistryEntry } from '../durable/registry.ts';
import type { RestoreResult } from '../durable/restore.ts';
import type { PosJSON } from '../durable/rpc-result.ts';
import { STAT_KEYS } from '../durable/stats.ts';
import type { StatsJSON } from '../durable/stats.ts';
import type { CommitEvent } from '../durable/watchers.ts';
import { AtSchema, DatabaseNameSchema, TXIDSchema } from './param-schemas.ts';
import { DEFAULT_LINK_SECONDS, MAX_LINK_SECONDS } from '../read/read-links.ts';

/** 16 lowercase hex digits: how TXIDs and checksums always leave the server. */
const Hex16 = z.string().regex(/^[0-9a-f]{16}$/);

/** RFC3339 with milliseconds, as `Date.prototype.toISOString` writes it. */
const Timestamp = z.string().openapi({ format: 'date-time', example: '2026-01-01T00:00:00.000Z' });

export const PosSchema = z
  .object({
    txid: Hex16.openapi({ example: '0000000000000007' }),
    postApplyChecksum: Hex16.openapi({ example: '8a3c2f1e0b9d7c65' }),
  })
  .openapi('Pos', { description: 'A position (DESIGN §4): the TXID and the database checksum after it.' });

export const PosBodySchema = z.object({ pos: PosSchema }).openapi('PosBody');

const ErrorCodeSchema = z.enum(Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]]).openapi('ErrorCode', {
  description: 'Every code the API answers with; its HTTP status is fixed (see the table in info.description and `x-error-status`).',
});

export const ErrorSchema = z
  .object({
    error: z.object({
      code: ErrorCodeSchema,
      message: z.string().openapi({ description: 'For people; clients branch on `code`.' }),
      details: z.record(z.string(), z.unknown()).optional().openapi({
        description: 'Structured context, e.g. `pos` on POSITION_MISMATCH/CONFLICT/NOT_YET_AVAILABLE, `ltxCode` on INVALID_LTX.',
      }),
    }),
  })
  .openapi('Error', { description: 'The JSON error shape of every /v1 route.' });

export const HealthSchema = z.object({ ok: z.literal(true), name: z.string(), version: z.string() }).openapi('Health');

export const RegistryEntrySchema = z
  .object({
    name: DatabaseNameSchema,
    nextDue: z
      .number()
      .nullable()
      .optional()
      .openapi({ description: 'When maintenance is next due (ms since the epoch); null = idle until new writes.' }),
    pos: PosSchema,
    pageSize: z.int(),
    size: z.int().openapi({ description: 'Database size in bytes at the head.' }),
    updatedAt: Timestamp,
  })
  .openapi('DatabaseEntry');

export const DatabaseListSchema = z
  .object({
    databases: z.array(RegistryEntrySchema),
    next: DatabaseNameSchema.optional().openapi({ description: 'Present when there may be more: pass it as `after`.' }),
  })
  .openapi('DatabaseList');

/** How a database's maintenance is going (durable/maintenance-state.ts). */
const MaintenanceStateSchema = z
  .object({
    failures: z
      .int()
      .openapi({ description: 'Failed maintenance passes in a row; each one doubles the wait before the next (1 min up to 1 h).' }),
    retryAt: Timestamp.nullable().openapi({ description: 'Not maintained again before this; null when not backing off.' }),
    lastFailure: z.object({ action: z.string(), error: z.string(), at: Timestamp }).nullable(),
    budgetExhausted: z
      .boolean()
      .openapi({ description: 'The last pass reached its time budget (LTX_EDGE_MAINTENANCE_BUDGET) with work left for the next tick.' }),
  })
  .openapi('MaintenanceState');

export const DatabaseInfoSchema = z
  .object({
    name: DatabaseNameSchema,
    pos: PosSchema,
    pageSize: z.int(),
    commit: z.int().openapi({ description: 'Database size in pages at the head.' }),
    size: z.int().openapi({ description: 'pageSize × commit, bytes.' }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    levels: z.array(z.object({ level: z.int(), files: z.int(), bytes: z.int() })),
    oldest: z.object({ txid: Hex16, timestamp: Timestamp }).nullable().openapi({
      description:
        'The oldest TXID a read or restore can still be planned at (retention removed what is older), and when it was committed.',
    }),
    pendingWrites: z.int().openapi({ description: 'Writes queued behind the one running (lag).' }),
    maintenance: MaintenanceStateSchema,
  })
  .openapi('DatabaseInfo');

export const FileSchema = z
  .object({
    level: z.int(),
    minTXID: Hex16,
    maxTXID: Hex16,
    size: z.int().openapi({ description: 'Bytes.' }),
    timestamp: Timestamp.openapi({ description: 'The LTX header timestamp.' }),
    postApplyChecksum: Hex16,
  })
  .openapi('LtxFile');

export const FileListSchema = z.object({ files: z.array(FileSchema) }).openapi('LtxFileList');

/** One GET …/watch commit event's data (durable/watchers.ts CommitEvent). */
export const WatchEventSchema = z
  .object({
    pos: PosSchema,
    since: TXIDSchema.openapi({
      description: 'The TXID the changes are relative to: the head before the commit, or the Last-Event-ID resumed from.',
    }),
    pageSize: z.int(),
    commit: z.int().openapi({ description: 'Database size in pages afterwards.' }),
    timestamp: Timestamp,
    pgnos: z
      .array(z.int())
      .optional()
      .openapi({ description: 'Pages changed since `since`, ascending (at most 1024); absent when `all`.' }),
    all: z
      .boolean()
      .openapi({ description: 'Every page may have changed: too many to list, a shrink, or a range no longer held commit by commit.' }),
  })
  .openapi('WatchEvent');

export const ChangesSchema = z
  .object({
    pos: PosSchema,
    pgnos: z.array(z.int()).openapi({ description: 'Pages changed after `since`, ascending; empty when `all`.' }),
    all: z.boolean().openapi({ description: 'True when the range is no longer retained or the database shrank: re-read everything.' }),
  })
  .openapi('Changes');

/** What the DatabaseDO counts (durable/stats.ts). */
const DatabaseStatsSchema = z.object({
  counters: z.record(z.enum(STAT_KEYS), z.int()),
  lastError: z.object({ code: z.string(), message: z.string(), at: Timestamp }).nullable(),
  maintenance: MaintenanceStateSchema,
});

export const StatsSchema = DatabaseStatsSchema.extend({
  watchers: z.int().openapi({ description: 'Open GET …/watch streams on this database.' }),
  reads: z.looseObject({}).openapi({ description: "The answering isolate's read caches (page indexes, plans); each isolate has its own." }),
}).openapi('Stats');

export const RestoreBodySchema = z
  .union([z.strictObject({ txid: TXIDSchema }), z.strictObject({ at: AtSchema })])
  .openapi('RestoreRequest', {
    description: 'Exactly one of `txid` or `at`: the past state to write as the next transaction.',
    example: { txid: '0000000000000001' },
  });

export const LinkRequestSchema = z
  .strictObject({
    txid: TXIDSchema.optional(),
    at: AtSchema.optional(),
    expiresIn: z
      .number()
      .int()
      .min(1)
      .max(MAX_LINK_SECONDS)
      .optional()
      .openapi({ description: `Seconds the link lasts: default ${DEFAULT_LINK_SECONDS}, at most ${MAX_LINK_SECONDS} (7 days).` }),
  })
  .openapi('LinkRequest', {
    description:
      'The point (`txid` or `at`; neither = the head) is resolved now: the link always means that one TXID. An empty body is `{}`.',
    example: { txid: '0000000000000007', expiresIn: 3600 },
  });

export const LinkSchema = z
  .object({
    url: z
      .string()
      .openapi({ description: 'GET/HEAD/OPTIONS without a token: the SQLite file at `txid`, ranges honoured, CORS for any origin.' }),
    txid: Hex16,
    expiresAt: Timestamp,
  })
  .openapi('Link');

/** A bound SQL value: JSON scalars, or `{"base64": "…"}` for a blob (query/values.ts). */
const SqlValue = z.union([z.string(), z.number(), z.boolean(), z.null(), z.strictObject({ base64: z.string() })]);

export const QueryBodySchema = z
  .strictObject({
    sql: z.string().min(1).openapi({ description: 'One read-only statement.' }),
    params: z
      .union([z.array(SqlValue), z.record(z.string(), SqlValue)])
      .optional()
      .openapi({ description: 'Positional (array) or named (object) parameters.' }),
    txid: TXIDSchema.optional(),
    at: AtSchema.optional(),
    min_txid: TXIDSchema.optional(),
  })
  .openapi('QueryRequest', {
    description: 'The point (`txid`/`at`/`min_txid`) goes in the body or in the query string, not both.',
    example: { sql: 'SELECT count(*) FROM sqlite_schema' },
  });

export const QueryResultSchema = z
  .object({
    columns: z.array(z.string()),
    rows: z
      .array(z.array(z.unknown()))
      .openapi({ description: 'One array per row; blobs as `{"base64": "…"}`, big integers as strings (query/values.ts).' }),
    pos: PosSchema,
    stats: z.looseObject({
      pagesRead: z.int(),
      ms: z.number().openapi({ description: 'Wall time in the Worker; in production it advances only across I/O.' }),
    }),
  })
  .openapi('QueryResult');

export const RestoreResultSchema = z
  .object({
    pos: PosSchema,
    restoredFrom: Hex16.openapi({ description: 'The TXID whose state was restored.' }),
    pages: z
      .int()
      .openapi({ description: 'Pages the new transaction wrote (those that differ from the head); 0 when already at that state.' }),
  })
  .openapi('RestoreResult');

export const DeletedSchema = z.object({ deleted: z.int().openapi({ description: 'R2 objects deleted.' }) }).openapi('Deleted');

export const AdoptedSchema = z
  .object({ adopted: z.int().openapi({ description: 'Files adopted from R2.' }), pos: PosSchema })
  .openapi('Adopted');

export const MaintenanceResultSchema = z
  .looseObject({
    actions: z.array(z.looseObject({ kind: z.enum(['compact', 'snapshot', 'delete']), ok: z.boolean(), error: z.string().optional() })),
    nextDue: z.number().nullable().openapi({ description: 'When maintenance is next due (ms since the epoch), or null.' }),
    inconsistencies: z.int(),
    budgetExhausted: z.boolean().openapi({ description: 'The pass reached its time budget with actions left; they run on the next tick.' }),
  })
  .openapi('MaintenanceResult');

/** Compile-time: a schema's output and the type the code returns are assignable both ways. */
type Same<S extends z.ZodType, T> = [z.output<S>] extends [T] ? ([T] extends [z.output<S>] ? true : false) : false;

// A field added to or removed from one of these types without its schema fails `tsc`.
export const SCHEMAS_MATCH_TYPES: [
  Same<typeof PosSchema, PosJSON>,
  Same<typeof RegistryEntrySchema, RegistryEntry>,
  Same<typeof DatabaseInfoSchema, DatabaseInfo>,
  Same<typeof FileSchema, FileJSON>,
  Same<typeof RestoreResultSchema, RestoreResult>,
  Same<typeof DatabaseStatsSchema, StatsJSON>,
  Same<typeof WatchEventSchema, CommitEvent>,
] = [true, true, true, true, true, true, true];
