// One database's view (#/db/<name>): its facts and live head, the timeline, the point selector, SQL, tables, changes and actions.

import { actionsView } from './actions.ts';
import { type Api, ApiError, dbPath, errorText, isAbort } from './api.ts';
import { changesView } from './changes-view.ts';
import { DbState, FILES_PER_LEVEL, type FileSpan, fileSpan } from './db-state.ts';
import { type View, focusTarget, h, replace, txidEl } from './dom.ts';
import { formatBytes, formatCount, formatRelative } from './format.ts';
import { pointSelector } from './point-selector.ts';
import { sqlEditor } from './sql-editor.ts';
import { tablesView } from './tables-view.ts';
import { timeline } from './timeline.ts';
import type { DatabaseInfo, LtxFile } from './types.ts';
import { type WatchStatus, watch } from './watch.ts';

/** Files asked for per GET …/ltx (the route's maximum). */
const LTX_PAGE = 1000;

/** The files of every level that holds some, at most FILES_PER_LEVEL each (paged by MinTXID). */
async function loadFiles(
  api: Api,
  info: DatabaseInfo,
  signal: AbortSignal,
): Promise<{ files: Map<number, FileSpan[]>; capped: Set<number> }> {
  const files = new Map<number, FileSpan[]>();
  const capped = new Set<number>();
  const levels = info.levels.filter((l) => l.files > 0).map((l) => l.level);
  await Promise.all(
    levels.map(async (level) => {
      const out: FileSpan[] = [];
      let after = '';
      for (;;) {
        const q = `/ltx?level=${level}&limit=${LTX_PAGE}${after ? `&after=${after}` : ''}`;
        const page = (await api.json<{ files: LtxFile[] }>('GET', dbPath(info.name, q), { signal })).files;
        out.push(...page.map(fileSpan));
        const last = page[page.length - 1]?.minTXID;
        if (page.length < LTX_PAGE) break;
        // Paging is by MinTXID: files that share one (snapshots all start at 1) cannot be paged past.
        if (out.length >= FILES_PER_LEVEL || last === after) {
          capped.add(level);
          break;
        }
        after = last;
      }
      files.set(level, out.slice(0, FILES_PER_LEVEL));
    }),
  );
  return { files, capped };
}

const STATUS_TEXT: Record<WatchStatus, string> = {
  connecting: 'connecting…',
  live: 'live',
  reconnecting: 'reconnecting…',
  polling: 'polling every 5 s (this server has no watch stream)',
  stopped: 'stopped',
};

export function databaseView(api: Api, name: string): View {
  const controller = new AbortController();
  const signal = controller.signal;
  const heading = focusTarget(h('h2', { id: 'db-title' }, name));
  const headTXID = h('code', { id: 'head-txid', class: 'txid', 'aria-live': 'polite' });
  const liveStatus = h('span', { class: 'live-status' });
  const facts = h('dl', { class: 'facts' });
  const error = h('p', { role: 'alert', class: 'error' });
  const body = h('div', { class: 'db-body' });
  const el = h('section', { class: 'database', 'aria-labelledby': 'db-title' }, heading, facts, error, body);

  // Built once, filled on every change: the live region around the head TXID is never re-created.
  const dd = {
    commit: h('dd'),
    size: h('dd'),
    pageSize: h('dd'),
    updated: h('dd'),
    oldest: h('dd'),
    pending: h('dd'),
    maintenance: h('dd'),
  };
  const fact = (term: string, value: HTMLElement) => h('div', null, h('dt', null, term), value);
  facts.append(
    fact('Head TXID', h('dd', null, headTXID, ' ', liveStatus)),
    fact('Commit', dd.commit),
    fact('Size', dd.size),
    fact('Page size', dd.pageSize),
    fact('Last write', dd.updated),
    fact('Oldest restorable', dd.oldest),
    fact('Pending writes', dd.pending),
    fact('Maintenance', dd.maintenance),
  );

  const renderFacts = (i: DatabaseInfo): void => {
    headTXID.textContent = i.pos.txid;
    replace(dd.commit, `${formatCount(i.commit)} pages`);
    replace(dd.size, formatBytes(i.size));
    replace(dd.pageSize, `${formatCount(i.pageSize)} bytes`);
    replace(dd.updated, h('time', { datetime: i.updatedAt, title: i.updatedAt }, formatRelative(i.updatedAt, Date.now())));
    replace(dd.oldest, ...(i.oldest ? [txidEl(i.oldest.txid), ` (${i.oldest.timestamp})`] : ['none (empty database)']));
    replace(dd.pending, formatCount(i.pendingWrites));
    const m = i.maintenance;
    const retry = m.retryAt ? `, next try ${m.retryAt}` : '';
    const last = m.lastFailure ? ` (${m.lastFailure.action}: ${m.lastFailure.error})` : '';
    replace(dd.maintenance, m.failures === 0 ? 'ok' : `${m.failures} failed pass${m.failures === 1 ? '' : 'es'}${retry}${last}`);
  };

  const setStatus = (status: WatchStatus | 'deleted', detail?: string): void => {
    liveStatus.dataset.status = status;
    liveStatus.textContent = `(${status === 'deleted' ? 'deleted' : STATUS_TEXT[status]}${detail ? `: ${detail}` : ''})`;
  };

  const fail = (e: unknown): void => {
    if (isAbort(e)) return;
    error.textContent = e instanceof ApiError && e.status === 404 ? `There is no database named ${name}.` : errorText(e);
  };

  const open = async (): Promise<void> => {
    const info = await api.json<DatabaseInfo>('GET', dbPath(name), { signal });
    const state = new DbState(name, info);
    renderFacts(info);
    state.on((change) => {
      if (change !== 'point') renderFacts(state.info);
    });
    const reload = async (): Promise<void> => {
      const next = await api.json<DatabaseInfo>('GET', dbPath(name), { signal });
      state.setInfo(next);
      const { files, capped } = await loadFiles(api, next, signal);
      state.setFiles(files, capped);
    };
    const editor = sqlEditor(api, state, signal);
    body.append(
      h(
        'section',
        { class: 'history', 'aria-labelledby': 'timeline-title' },
        h('h3', { id: 'timeline-title' }, 'Timeline'),
        timeline(state),
      ),
      pointSelector(api, state, signal),
      editor.el,
      tablesView(api, state, editor, signal),
      changesView(api, state, signal),
      actionsView(api, state, signal, () => void reload().catch(fail)),
    );
    const { files, capped } = await loadFiles(api, info, signal);
    state.setFiles(files, capped);
    void watch({
      api,
      db: name,
      lastEventId: info.pos.txid,
      signal,
      onCommit: (ev) => state.applyCommit(ev),
      onDeleted: () => {
        setStatus('deleted');
        error.textContent = `${name} was deleted.`;
      },
      onStatus: setStatus,
    });
  };

  void open().catch(fail);
  return { el, focus: heading, dispose: () => controller.abort() };
}
