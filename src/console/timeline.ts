// The timeline: an SVG of the listed LTX files per level along the TXID axis, the band retention still holds and the selected point; a click picks the nearest file boundary.

import { type DbState, FILES_PER_LEVEL, type FileSpan } from './db-state.ts';
import { h, replace, s } from './dom.ts';
import { formatBytes, formatCount } from './format.ts';
import { formatTXID, nearestTXID } from './txid.ts';

/** The snapshot level (DESIGN §2). */
export const SNAPSHOT_LEVEL = 9;

// Geometry in viewBox units.
const WIDTH = 1000;
const LEFT = 90;
const RIGHT = 12;
const ROW = 26;
const TOP = 6;
const AXIS = 26;

export function levelName(level: number): string {
  return level === SNAPSHOT_LEVEL ? 'snapshots' : `L${level}`;
}

function fileTitle(f: FileSpan): string {
  const size = f.size === undefined ? '' : `, ${formatBytes(f.size)}`;
  return `${levelName(f.level)} ${formatTXID(f.minTXID)}–${formatTXID(f.maxTXID)}${size}, ${f.timestamp}`;
}

export function timeline(state: DbState): HTMLElement {
  const svg = s('svg', { role: 'img', class: 'timeline' });
  const note = h('p', { class: 'hint' });
  const marker = s('line', { class: 'marker' });
  const markerTitle = s('title');
  marker.append(markerTitle);
  // The TXID axis: lo (the state before the oldest file) to the head.
  let lo = 0n;
  let hi = 1n;
  // The aria-label without the selected point.
  let summary = '';
  const x = (t: bigint): number => LEFT + (Number(t - lo) / Number(hi - lo)) * (WIDTH - LEFT - RIGHT);

  const placeMarker = (): void => {
    const at = x(state.txid);
    for (const [k, v] of Object.entries({ x1: at, x2: at })) marker.setAttribute(k, String(v));
    markerTitle.textContent = `Selected point: ${state.point === null ? 'the head, ' : ''}TXID ${formatTXID(state.txid)}`;
    svg.setAttribute('aria-label', `${summary} Selected point: TXID ${formatTXID(state.txid)}.`);
  };

  const draw = (): void => {
    const levels = [...new Set([...state.info.levels.filter((l) => l.files > 0).map((l) => l.level), ...state.files.keys()])].sort(
      (a, b) => a - b,
    );
    const all = [...state.files.values()].flat();
    const oldest = state.oldest ?? state.head;
    lo = all.reduce((m, f) => (f.minTXID - 1n < m ? f.minTXID - 1n : m), oldest);
    hi = state.head > lo ? state.head : lo + 1n;
    const height = TOP + levels.length * ROW + AXIS;
    svg.setAttribute('viewBox', `0 0 ${WIDTH} ${height}`);
    const bottom = TOP + levels.length * ROW;
    const band = s(
      'rect',
      { class: 'retained', x: x(oldest), y: 0, width: Math.max(2, x(state.head) - x(oldest)), height: bottom + 4 },
      s('title', null, `Restorable: TXID ${formatTXID(oldest)} to the head, ${formatTXID(state.head)}`),
    );
    const rows = levels.map((level, i) => {
      const y = TOP + i * ROW;
      const files = state.files.get(level) ?? [];
      return s(
        'g',
        { class: `level level-${Math.min(level, SNAPSHOT_LEVEL)}` },
        s('text', { x: LEFT - 8, y: y + ROW / 2 + 4, 'text-anchor': 'end' }, levelName(level)),
        s('line', { class: 'lane', x1: LEFT, x2: WIDTH - RIGHT, y1: y + ROW / 2, y2: y + ROW / 2 }),
        ...files.map((f) =>
          s(
            'rect',
            { class: 'file', x: x(f.minTXID - 1n), y: y + 4, width: Math.max(1.5, x(f.maxTXID) - x(f.minTXID - 1n)), height: ROW - 8 },
            s('title', null, fileTitle(f)),
          ),
        ),
      );
    });
    const axis = s(
      'g',
      { class: 'axis' },
      s('line', { x1: LEFT, x2: WIDTH - RIGHT, y1: bottom + 4, y2: bottom + 4 }),
      s('text', { x: LEFT, y: bottom + 20 }, `TXID ${formatTXID(lo)}`),
      s('text', { x: WIDTH - RIGHT, y: bottom + 20, 'text-anchor': 'end' }, `${formatTXID(hi)} (head)`),
    );
    const counts = levels.map((l) => `${levelName(l)} ${formatCount(state.files.get(l)?.length ?? 0)} files`).join(', ');
    summary =
      `Timeline of ${state.name}: TXIDs ${formatTXID(lo)} to ${formatTXID(hi)}; ${counts || 'no files'}; ` +
      `restorable from TXID ${formatTXID(oldest)}.`;
    marker.setAttribute('y1', '0');
    marker.setAttribute('y2', String(bottom + 4));
    placeMarker();
    replace(svg, band, ...rows, axis, marker);
    const capped = [...state.capped].map((l) => {
      const total = state.info.levels.find((e) => e.level === l)?.files;
      return `${levelName(l)}: the first ${formatCount(FILES_PER_LEVEL)}${total ? ` of ${formatCount(total)}` : ''} files are shown`;
    });
    note.textContent = `Shaded: what retention still holds. Click to pick the nearest file boundary.${capped.length ? ` ${capped.join('; ')}.` : ''}`;
  };

  svg.addEventListener('click', (e) => {
    const points = state.boundaries();
    const ctm = svg.getScreenCTM();
    if (points.length === 0 || !ctm) return;
    const p = new DOMPoint(e.clientX, e.clientY).matrixTransform(ctm.inverse());
    const frac = Math.min(1, Math.max(0, (p.x - LEFT) / (WIDTH - LEFT - RIGHT)));
    state.select({ txid: nearestTXID(points, lo + BigInt(Math.round(frac * Number(hi - lo)))) });
  });
  state.on((change) => (change === 'point' ? placeMarker() : draw()));
  draw();
  return h('figure', { class: 'timeline-figure' }, svg, h('figcaption', null, note));
}
