// Read links: a URL that is itself the capability to read one database's file at one TXID until it expires (HMAC-SHA256, LTX_EDGE_LINK_SECRET).
//
// The link path is /v1/links/<db>/<txid>.<expires>.<incarnation>.<mac>: the MAC covers the name,
// the incarnation, the TXID and the expiry (Unix seconds), so changing any of them — or moving the
// token to another database — fails verification before any storage is touched. The incarnation
// ties the link to one life of the name: a deleted database's links end with it, and a database
// created again under the same name does not inherit them.

import { ApiError } from '../errors.ts';
import { parseHex64, formatTXID } from '../ltx/index.ts';

/** Lifetime of a link when the request names none (s). */
export const DEFAULT_LINK_SECONDS = 3_600;
/** Longest lifetime a link may ask for (s): 7 days. */
export const MAX_LINK_SECONDS = 7 * 86_400;

/** What a link grants. */
export interface ReadLink {
  db: string;
  incarnation: string;
  txid: bigint;
  /** Expiry, Unix seconds. */
  expires: number;
}

const TOKEN = /^([0-9a-f]{16})\.(\d{1,12})\.([A-Za-z0-9_-]{1,64})\.([A-Za-z0-9_-]{43})$/;

/** The path of a link (`/v1/links/<db>/<token>`); the name is already URL-safe (DESIGN §2). */
export async function linkPath(secret: string, link: ReadLink): Promise<string> {
  const mac = await crypto.subtle.sign('HMAC', await keyOf(secret), message(link));
  return `/v1/links/${link.db}/${formatTXID(link.txid)}.${link.expires}.${link.incarnation}.${base64url(new Uint8Array(mac))}`;
}

/**
 * The link a token grants for database `db`: 403 LINK_INVALID when it is malformed, was changed or
 * was minted for another database; 403 LINK_EXPIRED once `nowMs` is past its expiry.
 */
export async function verifyLink(secret: string, db: string, token: string, nowMs: number): Promise<ReadLink> {
  const m = TOKEN.exec(token);
  const mac = m ? fromBase64url(m[4]) : undefined;
  if (!m || !mac) throw new ApiError('LINK_INVALID', 'not a read link of this server');
  const link: ReadLink = { db, txid: parseHex64(m[1])!, expires: Number(m[2]), incarnation: m[3] };
  if (!(await crypto.subtle.verify('HMAC', await keyOf(secret), mac, message(link)))) {
    throw new ApiError('LINK_INVALID', 'this read link was changed, minted for another database, or signed with another secret');
  }
  if (nowMs >= link.expires * 1000) {
    throw new ApiError('LINK_EXPIRED', `this read link expired at ${new Date(link.expires * 1000).toISOString()}; mint another`, {
      expiresAt: new Date(link.expires * 1000).toISOString(),
    });
  }
  return link;
}

/** The bytes the MAC covers: a version tag, then every field, separated by a byte no field contains. */
function message(link: ReadLink): Uint8Array {
  return new TextEncoder().encode(
    ['ltx-edge read link v1', link.db, link.incarnation, formatTXID(link.txid), String(link.expires)].join('\n'),
  );
}

// Imported keys by secret: one import per isolate and secret (a Config holds one).
const keys = new Map<string, Promise<CryptoKey>>();

function keyOf(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (key === undefined) {
    if (keys.size >= 4) keys.clear();
    key = crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
    keys.set(secret, key);
  }
  return key;
}

function base64url(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

/** 32 bytes from 43 base64url characters, or undefined when they are not the canonical encoding. */
function fromBase64url(text: string): Uint8Array | undefined {
  const bin = atob(text.replaceAll('-', '+').replaceAll('_', '/') + '=');
  const bytes = Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
  return bytes.length === 32 && base64url(bytes) === text ? bytes : undefined;
}
