// The "API calls" panel on every page: the endpoints the console uses, and a live log of the calls this page made.

import { CALL_LOG_SIZE, callLog, onCall } from './api.ts';
import { h, replace } from './dom.ts';

/** Every call the console makes: method, path, what for. */
const ENDPOINTS: [string, string, string][] = [
  ['GET', '/v1/databases?limit=&after=&prefix=', 'the databases list; with limit=1, checking a token at sign-in'],
  ['GET', '/v1/databases/:db', 'head, size, levels, oldest restorable point'],
  ['GET', '/v1/databases/:db/ltx?level=&after=&limit=', 'LTX files per level, for the timeline'],
  ['GET', '/v1/databases/:db/watch', 'the live head (Server-Sent Events, Last-Event-ID)'],
  ['POST', '/v1/databases/:db/query', 'SQL at a point: the editor, the tables browser, row diffs'],
  ['GET', '/v1/databases/:db/changes?since=&txid=', 'pages changed between two points'],
  ['POST', '/v1/databases/:db/links', 'read links: download, share'],
  ['POST', '/v1/databases/:db/restore', 'restore to a point, and undo'],
];

/** The panel; it follows the call log for the life of the page. */
export function apiPanel(): HTMLElement {
  const log = h('tbody');
  const count = h('span');
  const render = (): void => {
    const calls = callLog();
    count.textContent = ` (${calls.length})`;
    replace(
      log,
      ...calls.map((c) =>
        h(
          'tr',
          null,
          h('td', null, c.method),
          h('td', null, h('code', null, c.path)),
          h('td', { class: c.status >= 200 && c.status < 300 ? 'ok' : 'error' }, c.status === 0 ? 'network error' : c.status),
          h('td', { class: 'num' }, `${c.ms} ms`),
        ),
      ),
    );
  };
  onCall(render);
  render();
  const head = (...cells: string[]) => h('thead', null, h('tr', null, ...cells.map((c) => h('th', { scope: 'col' }, c))));
  return h(
    'details',
    { class: 'api-panel' },
    h('summary', null, 'API calls', count),
    h('h2', null, 'Endpoints this console uses'),
    h(
      'div',
      { class: 'scroll' },
      h(
        'table',
        null,
        head('Method', 'Path', 'What for'),
        h(
          'tbody',
          null,
          ...ENDPOINTS.map(([m, p, w]) => h('tr', null, h('td', null, m), h('td', null, h('code', null, p)), h('td', null, w))),
        ),
      ),
    ),
    h('h2', null, `Calls from this page (the last ${CALL_LOG_SIZE}, newest first)`),
    h('div', { class: 'scroll' }, h('table', null, head('Method', 'Path', 'Status', 'Time'), log)),
  );
}
