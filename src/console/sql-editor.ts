// The SQL editor: one read-only statement at the selected point (POST …/query); rows in a table, errors as CODE: message.

import { type Api, errorText, isAbort, pointFields } from './api.ts';
import type { DbState } from './db-state.ts';
import { h, replace } from './dom.ts';
import { formatCount } from './format.ts';
import { resultTable } from './result-table.ts';

export interface SqlEditor {
  el: HTMLElement;
  /** Puts `sql` in the editor (when given) and runs it. */
  run(sql?: string): Promise<void>;
}

export function sqlEditor(api: Api, state: DbState, signal: AbortSignal): SqlEditor {
  const textarea = h('textarea', { id: 'sql', rows: 5, spellcheck: false, autocomplete: 'off', 'aria-describedby': 'sql-help' });
  textarea.value = "SELECT name, type FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY name";
  const button = h('button', { type: 'submit' }, 'Run');
  const summary = h('p', { class: 'status', 'aria-live': 'polite' });
  const error = h('p', { role: 'alert', class: 'error' });
  const out = h('div');
  let running = false;

  const run = async (sql?: string): Promise<void> => {
    if (sql !== undefined) textarea.value = sql;
    if (running) return;
    running = true;
    // aria-disabled rather than disabled: a disabled button would drop the keyboard focus.
    button.setAttribute('aria-disabled', 'true');
    error.textContent = '';
    summary.textContent = 'Running…';
    out.replaceChildren();
    const started = performance.now();
    try {
      const r = await api.query(state.name, textarea.value, pointFields(state.point), undefined, signal);
      const total = Math.round(performance.now() - started);
      const n = r.rows.length;
      summary.textContent =
        `at TXID ${r.pos.txid} · ${formatCount(n)} row${n === 1 ? '' : 's'} · ${formatCount(r.stats.pagesRead)} pages read · ` +
        `${r.stats.ms} ms (server) / ${total} ms (round trip)`;
      replace(out, resultTable(r.columns, r.rows, 'Query result'));
    } catch (e) {
      if (isAbort(e)) return;
      summary.textContent = '';
      error.textContent = errorText(e);
    } finally {
      running = false;
      button.removeAttribute('aria-disabled');
    }
  };

  textarea.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      void run();
    }
  });
  const submit = (e: Event): void => {
    e.preventDefault();
    void run();
  };
  const el = h(
    'section',
    { class: 'sql', 'aria-labelledby': 'sql-title' },
    h('h3', { id: 'sql-title' }, 'Query'),
    h(
      'form',
      { on: { submit } },
      h('label', { for: 'sql' }, 'SQL'),
      textarea,
      h(
        'div',
        { class: 'row' },
        button,
        h('span', { id: 'sql-help', class: 'hint' }, 'One read-only statement, at the point above. Ctrl+Enter (⌘+Enter) runs it.'),
      ),
    ),
    summary,
    error,
    out,
  );
  return { el, run };
}
