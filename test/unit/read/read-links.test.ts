// Read-link tokens: a link verifies only for the database, incarnation, TXID and expiry it was minted with, under the secret it was signed with.

import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../src/errors.ts';
import { type ReadLink, linkPath, verifyLink } from '../../../src/read/read-links.ts';

const SECRET = 'a-secret-of-at-least-thirty-two-characters';
const NOW = Date.UTC(2026, 11, 7, 12, 0, 0);
const LINK: ReadLink = { db: 'orders', incarnation: '0123456789abcdef0123456789abcdef', txid: 0x2an, expires: NOW / 1000 + 3600 };

async function tokenOf(link: ReadLink, secret = SECRET): Promise<string> {
  const path = await linkPath(secret, link);
  expect(path.startsWith(`/v1/links/${link.db}/`)).toBe(true);
  return path.slice(`/v1/links/${link.db}/`.length);
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiError) return e.code;
    throw e;
  }
  return 'OK';
}

describe('read links', () => {
  it('round-trips: the token says what was minted', async () => {
    const token = await tokenOf(LINK);
    expect(token).toMatch(/^000000000000002a\.\d+\.[0-9a-f]{32}\.[A-Za-z0-9_-]{43}$/);
    expect(await verifyLink(SECRET, 'orders', token, NOW)).toEqual(LINK);
  });

  it('any changed field, another database or another secret → LINK_INVALID', async () => {
    const token = await tokenOf(LINK);
    const [txid, expires, inc, mac] = token.split('.');
    const tampered = [
      [txid.replace('2a', '2b'), expires, inc, mac],
      [txid, String(Number(expires) + 1), inc, mac],
      [txid, expires, inc.replace('0', '1'), mac],
      [txid, expires, inc, (mac[0] === 'A' ? 'B' : 'A') + mac.slice(1)],
      [txid, expires, inc, mac.slice(0, -1)],
    ].map((p) => p.join('.'));
    for (const t of [...tampered, '', '.', 'x.y.z.w', `${token}.`, token.toUpperCase()]) {
      expect(await codeOf(verifyLink(SECRET, 'orders', t, NOW)), t).toBe('LINK_INVALID');
    }
    expect(await codeOf(verifyLink(SECRET, 'orders-2', token, NOW))).toBe('LINK_INVALID');
    expect(await codeOf(verifyLink(`${SECRET}!`, 'orders', token, NOW))).toBe('LINK_INVALID');
  });

  it('a non-canonical signature encoding is refused, not decoded loosely', async () => {
    const token = await tokenOf(LINK);
    const mac = token.split('.')[3];
    // The last base64url character carries 2 padding bits: another character with the same 6-bit prefix decodes the same.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(mac.at(-1)!);
    const sibling = alphabet[(last & ~3) | ((last + 1) & 3)];
    const loose = token.slice(0, -1) + sibling;
    expect(await codeOf(verifyLink(SECRET, 'orders', loose, NOW))).toBe('LINK_INVALID');
  });

  it('expires at its second: LINK_EXPIRED from then on, after the signature checked out', async () => {
    const token = await tokenOf(LINK);
    expect(await codeOf(verifyLink(SECRET, 'orders', token, LINK.expires * 1000 - 1))).toBe('OK');
    expect(await codeOf(verifyLink(SECRET, 'orders', token, LINK.expires * 1000))).toBe('LINK_EXPIRED');
    const forged = token.replace(`.${LINK.expires}.`, `.${LINK.expires - 7200}.`);
    expect(await codeOf(verifyLink(SECRET, 'orders', forged, NOW))).toBe('LINK_INVALID');
  });
});
