// The few DOM members the dashboard's browser modules use, declared here instead of adding the
// DOM lib to the whole program: that lib would change types for the Node code as well (e.g.
// WebCrypto overloads) and let server modules use `document` unnoticed.

/** An element, as far as the dashboard uses one. */
export interface Elem {
  className: string;
  textContent: string | null;
  title: string;
  colSpan: number;
  disabled: boolean;
  value: string;
  onclick: (() => void) | null;
  readonly dataset: Record<string, string | undefined>;
  readonly children: ArrayLike<Elem>;
  readonly firstElementChild: Elem | null;
  append(...nodes: (Elem | string)[]): void;
  replaceChildren(...nodes: (Elem | string)[]): void;
  setAttribute(name: string, value: string): void;
  closest(selector: string): Elem | null;
  addEventListener(type: string, listener: (event: { readonly target: Elem }) => void): void;
}

interface Doc {
  readonly hidden: boolean;
  createElement(tag: string): Elem;
  createElementNS(ns: string, tag: string): Elem;
  querySelector(selector: string): Elem | null;
  getElementById(id: string): Elem | null;
  addEventListener(type: string, listener: () => void): void;
}

declare const document: Doc;
declare const window: { setTimeout(fn: () => void, ms: number): number; clearTimeout(id: number | undefined): void };

/** The page's document. */
export const doc: Doc = document;
/** Browser timers (numbers, unlike Node's). */
export const timers = window;

/** Builds an element with a class and children; strings become text nodes, never HTML. */
export function el(tag: string, className = '', ...children: (Elem | string)[]): Elem {
  const e = doc.createElement(tag);
  if (className) e.className = className;
  e.append(...children);
  return e;
}

/** A table cell. */
export function td(content: Elem | string, className = ''): Elem {
  return el('td', className, content);
}

/** The element with this id; the page's HTML has them all. */
export function byId(id: string): Elem {
  return doc.getElementById(id)!;
}
