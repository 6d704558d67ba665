// What changed between two points: the pages (GET …/changes), then rows added, removed and changed in every small rowid table.

import { type Api, ApiError, dbPath, errorText, isAbort } from './api.ts';
import type { DbState } from './db-state.ts';
import { h, txidEl } from './dom.ts';
import { formatCount, formatPgnos } from './format.ts';
import { resultTable } from './result-table.ts';
import { type Row, diffRows } from './row-diff.ts';
import { quoteIdent } from './tables-view.ts';
import { formatTXID, parseTXIDInput, previousTXID } from './txid.ts';
import type { Changes, Value } from './types.ts';

/** Tables with more rows than this at either point are not compared row by row. */
export const MAX_DIFF_ROWS = 5000;
/** Examples shown per kind of change. */
const EXAMPLES = 20;
/** Tables (not views, not SQLite's own) and whether each is WITHOUT ROWID (`wr`). */
const TABLES_SQL = `SELECT name, wr FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`;

export function changesView(api: Api, state: DbState, signal: AbortSignal): HTMLElement {
  const from = h('input', { id: 'changes-from', class: 'txid', type: 'text', autocomplete: 'off', spellcheck: false, maxlength: 16 });
  const to = h('input', { id: 'changes-to', class: 'txid', type: 'text', autocomplete: 'off', spellcheck: false, maxlength: 16 });
  const button = h('button', { type: 'submit' }, 'Compare');
  const status = h('p', { class: 'status', 'aria-live': 'polite' });
  const error = h('p', { role: 'alert', class: 'error' });
  const out = h('div');
  let running = false;

  const defaults = (): void => {
    const t = state.txid;
    to.value = formatTXID(t);
    from.value = formatTXID(previousTXID(state.boundaries(), t) ?? (t > 1n ? t - 1n : t));
  };

  const q = (sql: string, txid: bigint) => api.query(state.name, sql, { txid: formatTXID(txid) }, undefined, signal);

  /** One table's row diff, or why it was skipped. */
  const diffTable = async (name: string, a: bigint, b: bigint): Promise<HTMLElement> => {
    const count = `SELECT count(*) FROM ${quoteIdent(name)}`;
    const [na, nb] = await Promise.all([q(count, a), q(count, b)]).then((rs) => rs.map((r) => Number(r.rows[0][0])));
    if (na > MAX_DIFF_ROWS || nb > MAX_DIFF_ROWS)
      return h(
        'p',
        null,
        h('strong', null, name),
        `: skipped, ${formatCount(Math.max(na, nb))} rows (more than ${formatCount(MAX_DIFF_ROWS)}).`,
      );
    const select = `SELECT rowid, * FROM ${quoteIdent(name)}`;
    const [ra, rb] = await Promise.all([q(select, a), q(select, b)]);
    const d = diffRows(ra.rows as Row[], rb.rows as Row[], EXAMPLES);
    const cols = rb.columns;
    const line = `${name}: ${formatCount(d.added)} added, ${formatCount(d.removed)} removed, ${formatCount(d.changed)} changed`;
    if (d.added + d.removed + d.changed === 0) return h('p', null, h('strong', null, name), ': no rows changed.');
    const changed: Value[][] = d.examples.changed.flatMap((c) => [
      ['before', ...c.before],
      ['after', ...c.after],
    ]);
    return h(
      'details',
      null,
      h('summary', null, line),
      d.examples.added.length > 0 && [h('h4', null, 'Added'), resultTable(cols, d.examples.added, `${name}: rows added`)],
      d.examples.removed.length > 0 && [h('h4', null, 'Removed'), resultTable(cols, d.examples.removed, `${name}: rows removed`)],
      changed.length > 0 && [h('h4', null, 'Changed'), resultTable(['', ...cols], changed, `${name}: rows changed`)],
      h('p', { class: 'hint' }, `At most ${EXAMPLES} examples of each.`),
    );
  };

  const compare = async (): Promise<void> => {
    const a = parseTXIDInput(from.value);
    const b = parseTXIDInput(to.value);
    const fail = (message: string): void => {
      error.textContent = message;
    };
    if ('error' in a) return fail(`From TXID: ${a.error}`);
    if ('error' in b) return fail(`To TXID: ${b.error}`);
    if (a.txid > b.txid) return fail('From must not be after To.');
    if (running) return;
    running = true;
    button.setAttribute('aria-disabled', 'true');
    error.textContent = '';
    status.textContent = 'Comparing…';
    out.replaceChildren();
    try {
      const c = await api.json<Changes>('GET', dbPath(state.name, `/changes?since=${formatTXID(a.txid)}&txid=${formatTXID(b.txid)}`), {
        signal,
      });
      const pages = c.all
        ? 'all pages (the range is no longer held file by file)'
        : `${formatCount(c.pgnos.length)} page${c.pgnos.length === 1 ? '' : 's'}${c.pgnos.length ? `: ${formatPgnos(c.pgnos)}` : ''}`;
      out.append(h('p', null, 'Pages changed after ', txidEl(formatTXID(a.txid)), ' up to ', txidEl(c.pos.txid), `: ${pages}.`));
      const [ta, tb] = await Promise.all([q(TABLES_SQL, a.txid), q(TABLES_SQL, b.txid)]);
      const before = new Set(ta.rows.map((r) => String(r[0])));
      for (const [name, wr] of tb.rows.map((r) => [String(r[0]), r[1]] as const)) {
        status.textContent = `Comparing ${name}…`;
        if (!before.has(name)) out.append(h('p', null, h('strong', null, name), ': new table (not in From).'));
        else if (wr) out.append(h('p', null, h('strong', null, name), ': skipped, WITHOUT ROWID (no rowid to match rows by).'));
        else out.append(await diffTable(name, a.txid, b.txid));
        before.delete(name);
      }
      for (const name of before) out.append(h('p', null, h('strong', null, name), ': dropped (not in To).'));
      status.textContent = `Compared TXID ${formatTXID(a.txid)} with ${formatTXID(b.txid)}.`;
    } catch (e) {
      if (isAbort(e)) return;
      status.textContent = '';
      error.textContent =
        errorText(e) + (e instanceof ApiError && e.code === 'TXID_NOT_AVAILABLE' ? ' (pick file boundaries on the timeline)' : '');
    } finally {
      running = false;
      button.removeAttribute('aria-disabled');
    }
  };

  state.on((change) => {
    if (change !== 'head' && !running) defaults();
  });
  defaults();
  const submit = (e: Event): void => {
    e.preventDefault();
    void compare();
  };
  return h(
    'section',
    { class: 'changes', 'aria-labelledby': 'changes-title' },
    h('h3', { id: 'changes-title' }, 'What changed'),
    h(
      'form',
      { class: 'point-fields', on: { submit } },
      h('div', { class: 'field' }, h('label', { for: 'changes-from' }, 'From TXID'), from),
      h('div', { class: 'field' }, h('label', { for: 'changes-to' }, 'To TXID'), to),
      h('div', { class: 'field' }, button),
    ),
    status,
    error,
    out,
  );
}
