// Deterministic, SQLite-looking page corpora for the benchmarks (seeded; same bytes on every run).

import { type Prng, prng } from './harness.ts';

export type PageKind = 'table' | 'index' | 'empty' | 'random';

/** Share of each kind in a corpus: 40% table leaves, 20% index leaves, 20% empty-ish, 20% random. */
export const CORPUS_MIX: readonly [PageKind, number][] = [
  ['table', 0.4],
  ['index', 0.2],
  ['empty', 0.2],
  ['random', 0.2],
];

export interface Corpus {
  pageSize: number;
  pages: Uint8Array[];
  kinds: PageKind[];
  /** pages.length * pageSize */
  bytes: number;
}

const FIRST = [
  'James',
  'Mary',
  'Robert',
  'Patricia',
  'John',
  'Jennifer',
  'Michael',
  'Linda',
  'David',
  'Elizabeth',
  'William',
  'Barbara',
  'Richard',
  'Susan',
  'Joseph',
  'Jessica',
  'Thomas',
  'Sarah',
  'Charles',
  'Karen',
  'Chen',
  'Aiko',
  'Mateo',
  'Priya',
  'Olga',
  'Kwame',
  'Fatima',
  'Lars',
  'Ines',
  'Tariq',
];
const LAST = [
  'Smith',
  'Johnson',
  'Williams',
  'Brown',
  'Jones',
  'Garcia',
  'Miller',
  'Davis',
  'Rodriguez',
  'Martinez',
  'Hernandez',
  'Lopez',
  'Gonzalez',
  'Wilson',
  'Anderson',
  'Thomas',
  'Taylor',
  'Moore',
  'Jackson',
  'Martin',
  'Lee',
  'Perez',
  'Thompson',
  'White',
  'Harris',
  'Sanchez',
  'Clark',
  'Ramirez',
  'Lewis',
  'Robinson',
];
const DOMAINS = ['example.com', 'mail.test', 'corp.example', 'inbox.example.org', 'users.dev'];
const STATUS = ['active', 'pending', 'shipped', 'cancelled', 'refunded'];
const CITIES = ['Berlin', 'Lisbon', 'Osaka', 'Toronto', 'Nairobi', 'Austin', 'Oslo', 'Lima', 'Pune', 'Dublin'];

const enc = new TextEncoder();

/** SQLite's varint (big-endian 7-bit groups; enough here for values below 2^56). */
function varint(v: number): number[] {
  if (v < 0x80) return [v];
  const groups: number[] = [];
  let x = v;
  while (x > 0) {
    groups.unshift(x % 128);
    x = Math.floor(x / 128);
  }
  return groups.map((g, i) => (i < groups.length - 1 ? g | 0x80 : g));
}

type Value = number | string | null | { real: number };

/** A SQLite record: header (size varint + serial types), then the body. */
function record(values: Value[]): number[] {
  const types: number[] = [];
  const body: number[] = [];
  for (const v of values) {
    if (v === null) {
      types.push(0);
    } else if (typeof v === 'string') {
      const b = enc.encode(v);
      types.push(b.length * 2 + 13);
      body.push(...b);
    } else if (typeof v === 'object') {
      types.push(7);
      const f = new DataView(new ArrayBuffer(8));
      f.setFloat64(0, v.real);
      for (let i = 0; i < 8; i++) body.push(f.getUint8(i));
    } else if (v === 0 || v === 1) {
      types.push(8 + v);
    } else {
      // Non-negative integers in the smallest serial type that holds them.
      const [t, n] = v < 0x80 ? [1, 1] : v < 0x8000 ? [2, 2] : v < 0x800000 ? [3, 3] : v < 0x80000000 ? [4, 4] : [5, 6];
      types.push(t);
      for (let i = n - 1; i >= 0; i--) body.push(Math.floor(v / 2 ** (8 * i)) & 0xff);
    }
  }
  const typeBytes = types.flatMap(varint);
  let hdrLen = typeBytes.length + 1;
  if (hdrLen >= 0x80) hdrLen++;
  return [...varint(hdrLen), ...typeBytes, ...body];
}

/**
 * A b-tree leaf page: 8-byte header, cell pointer array, free gap (zeros), cells packed at the end.
 * Stops adding cells once the page is `fill` full.
 */
function leafPage(pageSize: number, type: number, fill: number, nextCell: () => number[]): Uint8Array {
  const page = new Uint8Array(pageSize);
  const ptrs: number[] = [];
  let content = pageSize;
  const reserve = Math.floor(pageSize * (1 - fill));
  for (;;) {
    const cell = nextCell();
    if (content - cell.length < 8 + 2 * (ptrs.length + 1) + reserve) break;
    content -= cell.length;
    page.set(cell, content);
    ptrs.push(content);
  }
  page[0] = type;
  page[3] = ptrs.length >> 8;
  page[4] = ptrs.length & 0xff;
  const cs = content === 65536 ? 0 : content;
  page[5] = cs >> 8;
  page[6] = cs & 0xff;
  ptrs.forEach((p, i) => {
    page[8 + 2 * i] = p >> 8;
    page[9 + 2 * i] = p & 0xff;
  });
  return page;
}

function pick<T>(r: Prng, xs: readonly T[]): T {
  return xs[r.int(xs.length)];
}

/** An `orders`-like table leaf: rowid, customer id, status, amount, name, email, city, timestamps. */
function tablePage(r: Prng, pageSize: number, state: { rowid: number }): Uint8Array {
  return leafPage(pageSize, 0x0d, 0.7 + 0.28 * r.next(), () => {
    const rowid = ++state.rowid;
    const first = pick(r, FIRST);
    const last = pick(r, LAST);
    const created = 1_700_000_000 + rowid * 37 + r.int(1000);
    const payload = record([
      null, // INTEGER PRIMARY KEY alias: stored as NULL, the value is the rowid
      r.int(50_000),
      pick(r, STATUS),
      { real: Math.round(r.next() * 100_000) / 100 },
      `${first} ${last}`,
      r.next() < 0.9 ? `${first.toLowerCase()}.${last.toLowerCase()}${r.int(100)}@${pick(r, DOMAINS)}` : null,
      pick(r, CITIES),
      r.int(5),
      created,
      r.next() < 0.5 ? created + r.int(86_400 * 30) : null,
    ]);
    return [...varint(payload.length), ...varint(rowid), ...payload];
  });
}

/** An index leaf on (last_name, first_name, rowid): sorted keys with long shared prefixes. */
function indexPage(r: Prng, pageSize: number, state: { rowid: number }): Uint8Array {
  const li = r.int(LAST.length);
  let fi = 0;
  let n = 0;
  return leafPage(pageSize, 0x0a, 0.65 + 0.3 * r.next(), () => {
    if (r.next() < 0.15 && fi < FIRST.length - 1) fi++;
    const payload = record([LAST[li], FIRST[fi], 1 + ((state.rowid * 7919 + n++ * 104_729) % 2_000_000)]);
    return [...varint(payload.length), ...payload];
  });
}

/** Zero pages (half), freelist trunk pages (a quarter) and nearly empty table leaves (a quarter). */
function emptyPage(r: Prng, pageSize: number, state: { rowid: number }): Uint8Array {
  const roll = r.next();
  if (roll < 0.5) return new Uint8Array(pageSize);
  if (roll < 0.75) {
    const page = new Uint8Array(pageSize);
    const v = new DataView(page.buffer);
    const count = r.int(Math.min(120, pageSize / 4 - 2));
    v.setUint32(0, r.int(100_000));
    v.setUint32(4, count);
    let pg = 1000 + r.int(100_000);
    for (let i = 0; i < count; i++) v.setUint32(8 + 4 * i, (pg += 1 + r.int(20)));
    return page;
  }
  const cells = 1 + r.int(5);
  const page = tablePage(r, pageSize, { rowid: state.rowid });
  // Keep only the first few cells' worth: zero everything from the pointer array past `cells`.
  const ncell = (page[3] << 8) | page[4];
  if (ncell > cells) {
    const keepFrom = (page[8 + 2 * (cells - 1)] << 8) | page[9 + 2 * (cells - 1)];
    page.fill(0, 8 + 2 * cells, keepFrom);
    page[3] = 0;
    page[4] = cells;
    page[5] = keepFrom >> 8;
    page[6] = keepFrom & 0xff;
  }
  state.rowid += cells;
  return page;
}

/** `totalBytes / pageSize` pages in the CORPUS_MIX proportions, in a seeded shuffled order. */
export function makeCorpus(pageSize: number, totalBytes: number, seed = 0x17e0): Corpus {
  const r = prng(seed ^ pageSize);
  const count = Math.floor(totalBytes / pageSize);
  const kinds: PageKind[] = [];
  for (const [kind, share] of CORPUS_MIX) {
    for (let i = Math.round(count * share); i > 0 && kinds.length < count; i--) kinds.push(kind);
  }
  while (kinds.length < count) kinds.push('table');
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [kinds[i], kinds[j]] = [kinds[j], kinds[i]];
  }
  const state = { rowid: 0 };
  const pages = kinds.map((kind) => {
    switch (kind) {
      case 'table':
        return tablePage(r, pageSize, state);
      case 'index':
        return indexPage(r, pageSize, state);
      case 'empty':
        return emptyPage(r, pageSize, state);
      case 'random':
        return r.bytes(pageSize);
      default:
        throw new Error(`unknown page kind ${kind satisfies never}`);
    }
  });
  return { pageSize, pages, kinds, bytes: count * pageSize };
}
