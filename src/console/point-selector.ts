// The point selector: a TXID field, a Time field, a slider over the retained file boundaries and a Head button, kept in sync with the state.

import { type Api, errorText, isAbort } from './api.ts';
import type { DbState } from './db-state.ts';
import { h, replace, txidEl } from './dom.ts';
import { formatTXID, nearestTXID, parseTXIDInput, toTXID } from './txid.ts';

/** A datetime-local value (local time) as RFC3339 UTC, or undefined when it is not a time. */
export function localToRFC3339(value: string): string | undefined {
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

export function pointSelector(api: Api, state: DbState, signal: AbortSignal): HTMLElement {
  const now = h('p', { class: 'point-now', 'aria-live': 'polite' });
  const txid = h('input', {
    id: 'txid',
    class: 'txid',
    type: 'text',
    autocomplete: 'off',
    spellcheck: false,
    maxlength: 16,
    'aria-describedby': 'txid-help txid-error',
  });
  const txidError = h('span', { id: 'txid-error', class: 'error' });
  const time = h('input', { id: 'time', type: 'datetime-local', step: 1, 'aria-describedby': 'time-error' });
  const timeError = h('span', { id: 'time-error', class: 'error' });
  const slider = h('input', { id: 'point-slider', type: 'range', min: 0, step: 1 });
  const head = h('button', { type: 'button' }, 'Head');

  const invalid = (input: HTMLInputElement, out: HTMLElement, message: string): void => {
    out.textContent = message;
    if (message) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  };

  const applyTXID = (): void => {
    const parsed = txid.value.trim() === '' ? null : parseTXIDInput(txid.value);
    if (parsed !== null && 'error' in parsed) invalid(txid, txidError, parsed.error);
    else if (parsed !== null && parsed.txid > state.head)
      invalid(txid, txidError, `That is beyond the head (TXID ${formatTXID(state.head)}).`);
    else {
      invalid(txid, txidError, '');
      if (parsed !== null) txid.value = formatTXID(parsed.txid);
      state.select(parsed);
    }
  };

  const applyTime = async (): Promise<void> => {
    const at = localToRFC3339(time.value);
    if (at === undefined) return;
    invalid(time, timeError, '');
    try {
      // The server decides which TXID a time means (as for every read with `at`).
      const r = await api.query(state.name, 'SELECT 1', { at }, undefined, signal);
      state.select({ txid: toTXID(r.pos.txid), at });
    } catch (e) {
      if (!isAbort(e)) invalid(time, timeError, errorText(e));
    }
  };

  const sync = (): void => {
    const points = state.boundaries();
    const p = state.point;
    if (p === null) replace(now, 'Reading at ', h('strong', null, 'the head'), ' (TXID ', txidEl(formatTXID(state.head)), ').');
    else replace(now, 'Reading at ', h('strong', null, 'TXID ', txidEl(formatTXID(p.txid))), p.at ? `, the state at ${p.at}.` : '.');
    if (document.activeElement !== txid) txid.value = p === null ? '' : formatTXID(p.txid);
    txid.placeholder = `head (${formatTXID(state.head)})`;
    if (p?.at === undefined && document.activeElement !== time) time.value = '';
    slider.disabled = points.length < 2;
    slider.max = String(Math.max(0, points.length - 1));
    const i = points.length === 0 ? 0 : points.indexOf(nearestTXID(points, state.txid));
    slider.value = String(i);
    slider.setAttribute('aria-valuetext', points.length === 0 ? 'no retained points' : `TXID ${formatTXID(points[i])}`);
    head.setAttribute('aria-pressed', String(p === null));
  };

  txid.addEventListener('input', () => invalid(txid, txidError, ''));
  txid.addEventListener('change', applyTXID);
  time.addEventListener('change', () => void applyTime());
  slider.addEventListener('input', () => {
    const points = state.boundaries();
    const t = points[Number(slider.value)];
    if (t !== undefined) state.select({ txid: t });
  });
  head.addEventListener('click', () => {
    invalid(txid, txidError, '');
    state.select(null);
  });
  state.on(sync);
  sync();

  const onSubmit = (e: Event): void => {
    e.preventDefault();
    applyTXID();
  };
  return h(
    'section',
    { class: 'point', 'aria-labelledby': 'point-title' },
    h('h3', { id: 'point-title' }, 'Point in time'),
    now,
    h(
      'form',
      { class: 'point-fields', on: { submit: onSubmit } },
      h('div', { class: 'field' }, h('label', { for: 'txid' }, 'TXID'), txid, txidError),
      h('div', { class: 'field' }, h('label', { for: 'time' }, 'Time'), time, timeError),
      h('div', { class: 'field wide' }, h('label', { for: 'point-slider' }, 'Point'), slider),
      h('div', { class: 'field' }, head),
    ),
    h(
      'p',
      { id: 'txid-help', class: 'hint' },
      'TXID: 16 hex digits (fewer are padded), read when you leave the field or press Enter; empty = the head. ',
      'Time: the state at that moment (your time zone). Point: the retained file boundaries.',
    ),
  );
}
