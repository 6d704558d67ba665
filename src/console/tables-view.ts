// The tables browser: tables and views at the selected point with their columns and, on demand, row counts; picking one runs SELECT * … LIMIT 100.

import { type Api, errorText, isAbort, pointFields } from './api.ts';
import type { DbState } from './db-state.ts';
import { debounce, h, replace } from './dom.ts';
import { formatCount } from './format.ts';
import type { SqlEditor } from './sql-editor.ts';

/** Every table and view with its columns, in one statement. */
const SCHEMA_SQL = `SELECT m.name, m.type, c.name, c.type, c.pk, c."notnull"
FROM sqlite_schema AS m JOIN pragma_table_info(m.name) AS c
WHERE m.type IN ('table', 'view') AND m.name NOT LIKE 'sqlite_%'
ORDER BY m.name, c.cid`;

/** Tables counted by "Count rows" at most (one statement of scalar subqueries). */
const MAX_COUNTED = 50;
/** Wait after the point changes before reading the schema again (ms): the slider moves in steps. */
const RELOAD_DEBOUNCE_MS = 300;

/** An SQL identifier, double-quoted. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

interface Entry {
  name: string;
  type: string;
  columns: string[];
}

export function tablesView(api: Api, state: DbState, editor: SqlEditor, signal: AbortSignal): HTMLElement {
  const status = h('p', { class: 'status', 'aria-live': 'polite' });
  const error = h('p', { role: 'alert', class: 'error' });
  const list = h('div', { class: 'scroll' });
  const countButton = h('button', { type: 'button' }, 'Count rows');
  let entries: Entry[] = [];
  let counts = new Map<string, number>();
  let loads = 0;

  const render = (): void => {
    const rows = entries.map((e) =>
      h(
        'tr',
        null,
        h(
          'th',
          { scope: 'row' },
          h(
            'button',
            { type: 'button', class: 'link', on: { click: () => void editor.run(`SELECT * FROM ${quoteIdent(e.name)} LIMIT 100`) } },
            e.name,
          ),
        ),
        h('td', null, e.type),
        h('td', null, h('code', null, e.columns.join(', '))),
        h('td', { class: 'num' }, counts.has(e.name) ? formatCount(counts.get(e.name)!) : ''),
      ),
    );
    const th = (label: string, cls?: string) => h('th', { scope: 'col', class: cls }, label);
    replace(
      list,
      rows.length > 0 &&
        h(
          'table',
          { 'aria-labelledby': 'tables-title' },
          h('thead', null, h('tr', null, th('Name'), th('Type'), th('Columns'), th('Rows', 'num'))),
          h('tbody', null, ...rows),
        ),
    );
  };

  const load = async (): Promise<void> => {
    const seq = ++loads;
    status.textContent = 'Reading the schema…';
    try {
      const r = await api.query(state.name, SCHEMA_SQL, pointFields(state.point), undefined, signal);
      if (seq !== loads) return;
      const byName = new Map<string, Entry>();
      for (const [name, type, column, columnType, pk, notnull] of r.rows) {
        const e = byName.get(String(name)) ?? { name: String(name), type: String(type), columns: [] };
        byName.set(e.name, e);
        e.columns.push([column, columnType, pk ? 'PK' : '', notnull ? 'NOT NULL' : ''].filter(Boolean).join(' '));
      }
      entries = [...byName.values()];
      counts = new Map();
      error.textContent = '';
      const n = entries.length;
      status.textContent = `${n} ${n === 1 ? 'table or view' : 'tables and views'} at TXID ${r.pos.txid}. Pick one to query it.`;
      render();
    } catch (e) {
      if (isAbort(e) || seq !== loads) return;
      status.textContent = '';
      error.textContent = errorText(e);
    }
  };

  const count = async (): Promise<void> => {
    const tables = entries.filter((e) => e.type === 'table').slice(0, MAX_COUNTED);
    if (tables.length === 0) return;
    const seq = loads;
    const sql = `SELECT ${tables.map((t) => `(SELECT count(*) FROM ${quoteIdent(t.name)})`).join(', ')}`;
    status.textContent = 'Counting…';
    try {
      const r = await api.query(state.name, sql, pointFields(state.point), undefined, signal);
      if (seq !== loads) return;
      counts = new Map(tables.map((t, i) => [t.name, Number(r.rows[0][i])]));
      status.textContent = `Rows counted at TXID ${r.pos.txid}${entries.length > MAX_COUNTED ? ` (the first ${MAX_COUNTED} tables)` : ''}.`;
      render();
    } catch (e) {
      if (!isAbort(e)) error.textContent = errorText(e);
    }
  };

  countButton.addEventListener('click', () => void count());
  const reload = debounce(() => void load(), RELOAD_DEBOUNCE_MS);
  state.on((change) => {
    if (change === 'point') reload();
  });
  void load();
  return h(
    'section',
    { class: 'tables', 'aria-labelledby': 'tables-title' },
    h('h3', { id: 'tables-title' }, 'Tables'),
    h('div', { class: 'row' }, countButton),
    status,
    error,
    list,
  );
}
