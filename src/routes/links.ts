// POST /v1/databases/:db/links mints a read link; GET|HEAD|OPTIONS /v1/links/:db/:link serves the file at its TXID to anyone holding the URL (DESIGN §4a).

import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { requireScope } from '../auth.ts';
import type { AppEnv } from '../env.ts';
import { ApiError } from '../errors.ts';
import { formatTXID } from '../ltx/index.ts';
import { DEFAULT_LINK_SECONDS, MAX_LINK_SECONDS, linkPath, verifyLink } from '../read/read-links.ts';
import { TXID_HEX } from '../replication/point.ts';
import { ReadService, toReadPoint } from '../read/read-service.ts';
import { serveSqliteFile } from '../read/sqlite-file-answer.ts';
import { aString, aStringMatching, anInteger, parseJSONObject, readJSONBody } from './json-body.ts';
import { dbName } from './params.ts';

/** Largest mint request body (bytes). */
export const MAX_LINK_BODY_BYTES = 4 * 1024;

/** Response headers a page on another origin may read from a link answer. */
export const LINK_EXPOSED_HEADERS = [
  'Content-Range',
  'Content-Length',
  'Accept-Ranges',
  'ETag',
  'LTX-TXID',
  'Content-Type',
  'Content-Disposition',
];

/** POST …/links' body (LinkRequestSchema in the document). */
interface LinkRequest {
  txid?: string;
  at?: string;
  expiresIn?: number;
}

const LINK_REQUEST = {
  txid: aStringMatching(TXID_HEX, '1 to 16 lowercase hex digits'),
  at: aString,
  expiresIn: anInteger(1, MAX_LINK_SECONDS),
};
const LINK_REQUEST_SHAPE = '{"txid"?: "<hex>" | "at"?: "<time>", "expiresIn"?: <seconds>}';

export const linkMintRoutes = new Hono<AppEnv>();

linkMintRoutes.post('/:db/links', requireScope('read'), async (c) => {
  const name = dbName(c);
  const secret = linkSecret(c.get('config').linkSecret);
  const req = c.req.raw;
  const empty = req.body === null || req.headers.get('content-length') === '0';
  const body = parseJSONObject(empty ? {} : await readJSONBody(req, MAX_LINK_BODY_BYTES), LINK_REQUEST, LINK_REQUEST_SHAPE) as LinkRequest;
  const { plan } = await new ReadService(c, name).plan(await toReadPoint(body.txid, body.at, undefined));
  if (!plan.incarnation) throw new ApiError('NOT_FOUND', `database ${name} does not exist`);
  const expires = Math.floor(Date.now() / 1000) + (body.expiresIn ?? DEFAULT_LINK_SECONDS);
  const path = await linkPath(secret, { db: name, incarnation: plan.incarnation, txid: plan.txid, expires });
  const url = new URL(path, c.req.url).href;
  return c.json({ url, txid: formatTXID(plan.txid), expiresAt: new Date(expires * 1000).toISOString() }, 201, { location: url });
});

export const linkRoutes = new Hono<AppEnv>();

// Any origin, no credentials: the URL is the capability. Errors carry these headers too, so a page can read them.
linkRoutes.use(
  '*',
  cors({
    origin: '*',
    allowMethods: ['GET', 'HEAD', 'OPTIONS'],
    allowHeaders: ['Range', 'If-Range', 'If-None-Match', 'If-Match'],
    exposeHeaders: LINK_EXPOSED_HEADERS,
    maxAge: 86_400,
  }),
);

linkRoutes.get('/:db/:link', async (c) => {
  const name = dbName(c);
  const link = await verifyLink(linkSecret(c.get('config').linkSecret), name, c.req.param('link'), Date.now());
  const remaining = Math.max(0, link.expires - Math.floor(Date.now() / 1000));
  return serveSqliteFile(
    c,
    name,
    { txid: formatTXID(link.txid) },
    {
      // A shared cache in front of the Worker may keep the answer no longer than the link lasts.
      cacheControl: `public, max-age=${remaining}`,
      cacheScope: link.incarnation,
      check(plan) {
        if (plan.incarnation !== link.incarnation) throw new ApiError('NOT_FOUND', `the database this link was minted for was deleted`);
      },
    },
  );
});

/** The link secret, or 503 NOT_CONFIGURED saying how to set one. */
function linkSecret(secret: string | null): string {
  if (secret === null)
    throw new ApiError(
      'NOT_CONFIGURED',
      'read links need a secret: set LTX_EDGE_LINK_SECRET (at least 32 characters, e.g. `openssl rand -hex 32`; DESIGN §4a)',
    );
  return secret;
}
