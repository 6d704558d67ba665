// A tiny DOM builder: h('tag', {attributes, on: {event}}, ...children) for HTML and s(...) for SVG.

type Child = Node | string | number | null | undefined | false | Child[];
type Listeners = Record<string, (e: Event) => void>;
/** Attributes by name; `on` holds event listeners by event type. */
type Attrs = { [name: string]: string | number | boolean | null | undefined | Listeners; on?: Listeners };

function build<E extends Element>(el: E, attrs: Attrs | null, children: Child[]): E {
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (typeof value === 'object' && value !== null) {
      for (const [type, fn] of Object.entries(value)) el.addEventListener(type, fn);
    } else if (value === true) el.setAttribute(name, '');
    else if (value !== false && value !== null && value !== undefined) el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

function append(el: Element, children: Child[]): void {
  for (const c of children) {
    if (Array.isArray(c)) append(el, c);
    else if (c !== null && c !== undefined && c !== false) el.append(typeof c === 'number' ? String(c) : c);
  }
}

/** An HTML element. Attributes are set with setAttribute (never `style`: the CSP allows no inline styles). */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs | null = null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  return build(document.createElement(tag), attrs, children);
}

/** An SVG element. */
export function s<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Attrs | null = null, ...children: Child[]): SVGElementTagNameMap[K] {
  return build(document.createElementNS('http://www.w3.org/2000/svg', tag), attrs, children);
}

/** Replaces the children of `el`. */
export function replace(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

/** A TXID in monospace. */
export function txidEl(txid: string): HTMLElement {
  return h('code', { class: 'txid' }, txid);
}

/** Calls `fn` once `ms` after the last call. */
export function debounce<A extends unknown[]>(fn: (...args: A) => void, ms: number): (...args: A) => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** What a route renders: its element, where focus goes when it opens, and what to stop when it closes. */
export interface View {
  el: HTMLElement;
  focus: HTMLElement;
  dispose?(): void;
}

/** An element focusable from script only (headings that receive focus when a view opens). */
export function focusTarget<E extends HTMLElement>(el: E): E {
  el.tabIndex = -1;
  return el;
}
