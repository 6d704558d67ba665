// The databases view (#/): GET /v1/databases fifty at a time, with a name-prefix filter the server applies.

import { type Api, isAbort } from './api.ts';
import { type View, debounce, focusTarget, h, replace, txidEl } from './dom.ts';
import { formatBytes, formatCount, formatRelative } from './format.ts';
import type { DatabaseEntry, DatabaseList } from './types.ts';

const PAGE_SIZE = 50;
/** Wait after the last keystroke in Filter before asking the server (ms). */
const FILTER_DEBOUNCE_MS = 250;

/** `#/db/<name>`: the hash of one database's view. */
export function databaseHref(name: string): string {
  return `#/db/${encodeURIComponent(name)}`;
}

function timeEl(iso: string, now: number): HTMLElement {
  return h('time', { datetime: iso, title: iso }, formatRelative(iso, now));
}

function table(dbs: DatabaseEntry[]): HTMLElement {
  const now = Date.now();
  const due = dbs.some((d) => typeof d.nextDue === 'number');
  const th = (label: string, cls?: string) => h('th', { scope: 'col', class: cls }, label);
  return h(
    'table',
    { 'aria-labelledby': 'databases-title' },
    h(
      'thead',
      null,
      h('tr', null, th('Name'), th('Head TXID'), th('Size', 'num'), th('Page size', 'num'), th('Last write'), due && th('Maintenance due')),
    ),
    h(
      'tbody',
      null,
      ...dbs.map((d) =>
        h(
          'tr',
          null,
          h('th', { scope: 'row' }, h('a', { href: databaseHref(d.name) }, d.name)),
          h('td', null, txidEl(d.pos.txid)),
          h('td', { class: 'num', title: `${formatCount(d.size)} bytes` }, formatBytes(d.size)),
          h('td', { class: 'num' }, formatCount(d.pageSize)),
          h('td', null, timeEl(d.updatedAt, now)),
          due && h('td', null, typeof d.nextDue === 'number' ? timeEl(new Date(d.nextDue).toISOString(), now) : 'idle'),
        ),
      ),
    ),
  );
}

export function databasesView(api: Api): View {
  const heading = focusTarget(h('h2', { id: 'databases-title' }, 'Databases'));
  const filter = h('input', { id: 'filter', type: 'search', autocomplete: 'off', spellcheck: false, 'aria-describedby': 'filter-help' });
  const status = h('p', { class: 'status', 'aria-live': 'polite' });
  const error = h('p', { role: 'alert', class: 'error' });
  const list = h('div', { class: 'scroll' });
  const prev = h('button', { type: 'button', disabled: true }, 'Previous page');
  const next = h('button', { type: 'button', disabled: true }, 'Next page');
  const controller = new AbortController();
  // The `after` cursor of each page up to the one shown ('' = the first page).
  const cursors = [''];
  let nextCursor: string | undefined;
  let loads = 0;

  const load = async (): Promise<void> => {
    const seq = ++loads;
    const q = new URLSearchParams({ limit: String(PAGE_SIZE) });
    const after = cursors[cursors.length - 1];
    const prefix = filter.value.trim();
    if (after) q.set('after', after);
    if (prefix) q.set('prefix', prefix);
    status.textContent = 'Loading…';
    try {
      const answer = await api.json<DatabaseList>('GET', `/v1/databases?${q}`, { signal: controller.signal });
      if (seq !== loads) return;
      error.textContent = '';
      nextCursor = answer.next;
      prev.disabled = cursors.length === 1;
      next.disabled = nextCursor === undefined;
      const n = answer.databases.length;
      const what = prefix ? ` whose names start with “${prefix}”` : '';
      status.textContent = n === 0 ? `No databases${what}.` : `Page ${cursors.length}: ${n} database${n === 1 ? '' : 's'}${what}.`;
      replace(list, n > 0 && table(answer.databases));
    } catch (e) {
      if (isAbort(e) || seq !== loads) return;
      status.textContent = '';
      error.textContent = `Could not list databases: ${(e as Error).message}`;
    }
  };

  const refilter = debounce(() => {
    cursors.length = 1;
    void load();
  }, FILTER_DEBOUNCE_MS);
  filter.addEventListener('input', refilter);
  prev.addEventListener('click', () => {
    cursors.pop();
    void load();
  });
  next.addEventListener('click', () => {
    if (nextCursor === undefined) return;
    cursors.push(nextCursor);
    void load();
  });
  void load();

  const el = h(
    'section',
    { class: 'databases', 'aria-labelledby': 'databases-title' },
    heading,
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'filter' }, 'Filter'),
      filter,
      h('span', { id: 'filter-help', class: 'hint' }, 'Names starting with…'),
    ),
    status,
    error,
    list,
    h('nav', { class: 'pager', 'aria-label': 'Pages of databases' }, prev, next),
  );
  return { el, focus: heading, dispose: () => controller.abort() };
}
