// Actions at the selected point: download the database, share a read link, restore (confirmed in a dialog) and undo.

import { type Api, dbPath, errorText, isAbort } from './api.ts';
import type { DbState } from './db-state.ts';
import { h, replace, txidEl } from './dom.ts';
import { formatTXID } from './txid.ts';
import type { ReadLink, Restored } from './types.ts';

/** Lifetime of the link behind a download (s): it is used at once. */
const DOWNLOAD_LINK_SECONDS = 300;
/** Lifetime of a shared read link (s). */
const SHARED_LINK_SECONDS = 3600;

/** A modal confirmation: focus moves in (to Cancel), Escape cancels, focus returns where it was. */
function confirmDialog(): { el: HTMLDialogElement; ask(title: string, text: string, confirm: string): Promise<boolean> } {
  const title = h('h3', { id: 'confirm-title' });
  const text = h('p', { id: 'confirm-text' });
  const ok = h('button', { type: 'button', class: 'danger' });
  const cancel = h('button', { type: 'button' }, 'Cancel');
  const el = h(
    'dialog',
    { 'aria-labelledby': 'confirm-title', 'aria-describedby': 'confirm-text' },
    title,
    text,
    h('div', { class: 'row' }, cancel, ok),
  );
  ok.addEventListener('click', () => el.close('yes'));
  cancel.addEventListener('click', () => el.close('no'));
  return {
    el,
    ask(t, body, confirm) {
      title.textContent = t;
      text.textContent = body;
      ok.textContent = confirm;
      el.returnValue = '';
      const back = document.activeElement;
      el.showModal();
      cancel.focus();
      return new Promise((resolve) => {
        el.addEventListener(
          'close',
          () => {
            if (back instanceof HTMLElement) back.focus();
            resolve(el.returnValue === 'yes');
          },
          { once: true },
        );
      });
    },
  };
}

/** `onWritten` is called after a restore moved the head, so the view reads the database again. */
export function actionsView(api: Api, state: DbState, signal: AbortSignal, onWritten: () => void): HTMLElement {
  const db = state.name;
  const where = h('p');
  const status = h('div', { class: 'status', 'aria-live': 'polite' });
  const error = h('p', { role: 'alert', class: 'error' });
  const shared = h('div');
  const dialog = confirmDialog();

  const mint = (txid: bigint, expiresIn: number): Promise<ReadLink> =>
    api.json<ReadLink>('POST', dbPath(db, '/links'), { body: { txid: formatTXID(txid), expiresIn }, signal });

  const attempt = async (what: string, fn: () => Promise<void>): Promise<void> => {
    error.textContent = '';
    replace(status, `${what}…`);
    try {
      await fn();
    } catch (e) {
      if (isAbort(e)) return;
      status.replaceChildren();
      error.textContent = errorText(e);
    }
  };

  const download = () =>
    attempt('Preparing the download', async () => {
      const link = await mint(state.txid, DOWNLOAD_LINK_SECONDS);
      // Same origin, so `download` names the file; the link carries no token.
      const a = h('a', { href: link.url, download: `${db}-${link.txid}.db`, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      replace(status, 'Downloading ', h('code', null, `${db}-${link.txid}.db`), '.');
    });

  const share = () =>
    attempt('Creating a read link', async () => {
      const link = await mint(state.txid, SHARED_LINK_SECONDS);
      const url = h('input', { id: 'read-link', type: 'text', readonly: true, value: link.url });
      const copy = h('button', { type: 'button' }, 'Copy');
      const copied = h('span', { class: 'hint', 'aria-live': 'polite' });
      copy.addEventListener('click', () => {
        navigator.clipboard.writeText(link.url).then(
          () => (copied.textContent = 'Copied.'),
          () => {
            url.select();
            copied.textContent = 'Could not copy: the link is selected, copy it with Ctrl+C.';
          },
        );
      });
      const expires = h('time', { datetime: link.expiresAt }, link.expiresAt);
      replace(
        shared,
        h('label', { for: 'read-link' }, 'Read link'),
        h('div', { class: 'row' }, url, copy, copied),
        h('p', { class: 'hint' }, 'TXID ', txidEl(link.txid), '; anyone with the link can read that state until ', expires, '.'),
      );
      replace(status, 'Read link created.');
    });

  const restore = async (target: bigint): Promise<void> => {
    const head = state.head;
    if (target === head) {
      error.textContent = 'That point is the head: pick an earlier point to restore to.';
      return;
    }
    const [t, hd] = [formatTXID(target), formatTXID(head)];
    const text = `Write the state of ${db} at TXID ${t} as a new transaction after the head ${hd}. Nothing is deleted; you can undo by restoring to ${hd}.`;
    if (!(await dialog.ask(`Restore ${db} to TXID ${t}?`, text, 'Restore'))) return;
    await attempt('Restoring', async () => {
      const r = await api.json<Restored>('POST', dbPath(db, '/restore'), { body: { txid: t }, signal });
      const undo = h('button', { type: 'button' }, `Undo (restore to TXID ${hd})`);
      undo.addEventListener('click', () => void restore(head));
      replace(status, 'Restored: the state at TXID ', txidEl(t), ' is the new head, TXID ', txidEl(r.pos.txid), '. ', undo);
      onWritten();
    });
  };

  const sync = (): void =>
    replace(where, 'These act on TXID ', txidEl(formatTXID(state.txid)), state.point === null ? ' (the head).' : ', the selected point.');
  state.on(sync);
  sync();
  const button = (label: string, fn: () => void, cls?: string) => h('button', { type: 'button', class: cls, on: { click: fn } }, label);
  return h(
    'section',
    { class: 'actions', 'aria-labelledby': 'actions-title' },
    h('h3', { id: 'actions-title' }, 'Actions'),
    where,
    h(
      'div',
      { class: 'row' },
      button('Download database', () => void download()),
      button('Create read link', () => void share()),
      button('Restore to this point', () => void restore(state.txid), 'danger'),
    ),
    status,
    error,
    shared,
    dialog.el,
  );
}
