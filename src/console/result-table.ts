// Query rows as an HTML table: NULL set apart, BLOBs (sent as {"base64"}) as their size and first bytes in hex.

import { h } from './dom.ts';
import type { Value } from './types.ts';

/** Bytes of a BLOB shown in hex before "…". */
const BLOB_PREVIEW_BYTES = 16;

/** One value as a table cell's content. */
export function valueEl(v: Value): Node | string {
  if (v === null) return h('span', { class: 'null' }, 'NULL');
  if (typeof v === 'object') {
    const bytes = Uint8Array.from(atob(v.base64), (c) => c.charCodeAt(0));
    const hex = [...bytes.subarray(0, BLOB_PREVIEW_BYTES)].map((b) => b.toString(16).padStart(2, '0')).join('');
    return h(
      'code',
      { title: `BLOB, ${bytes.length} bytes` },
      `x'${hex}${bytes.length > BLOB_PREVIEW_BYTES ? '…' : ''}'`,
      h('span', { class: 'hint' }, ` (${bytes.length} B)`),
    );
  }
  return String(v);
}

/** A `<table>` of `rows` under `columns`, named by `label`. */
export function resultTable(columns: readonly string[], rows: readonly Value[][], label: string): HTMLElement {
  return h(
    'div',
    { class: 'scroll' },
    h(
      'table',
      { class: 'rows', 'aria-label': label },
      h('thead', null, h('tr', null, ...columns.map((c) => h('th', { scope: 'col' }, c)))),
      h(
        'tbody',
        null,
        ...rows.map((r) => h('tr', null, ...r.map((v) => h('td', { class: typeof v === 'number' ? 'num' : undefined }, valueEl(v))))),
      ),
    ),
  );
}
