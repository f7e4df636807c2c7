// The line-level scanning of the plain-YAML reader (parse-plain-yaml.ts): keys, quoted and
// plain scalars under the core schema, one-line flow collections. Anything outside the subset
// declines (throws DECLINE), and the caller falls back to the full parser.

/** A YAML map read into a plain object (the `__proto__` key is declined). */
export type JsMap = Record<string, unknown>;

/** Thrown (one shared object, no stack to capture) when the text leaves the subset. */
export const DECLINE = Object.freeze({ declined: true });

export function decline(): never {
  throw DECLINE;
}

export const SPACE = 32;
export const HASH = 35;
export const COLON = 58;
export const DASH = 45;

/** Characters that may not start a plain scalar (YAML's indicators), checked by code. */
export const INDICATORS = new Set([...'-?:,[]{}#&*!|>\'"%@`'].map((c) => c.charCodeAt(0)));

/** Whether `line` has a sequence dash at `i` (followed by a space or the end of the line). */
export function isDash(line: string, i: number): boolean {
  if (line.charCodeAt(i) !== DASH) return false;
  const next = line.charCodeAt(i + 1);
  return Number.isNaN(next) || next === SPACE;
}

export function skipSpaces(line: string, i: number): number {
  while (line.charCodeAt(i) === SPACE) i++;
  return i;
}

/**
 * The key of a block map entry at `start` and the index after its colon, or index -1 when the
 * text there is not a `key:` (then it may still be a scalar; the caller decides).
 */
export function blockKey(line: string, start: number): [string, number] {
  const first = line.charCodeAt(start);
  let key: string;
  let end: number;
  if (first === 0x22 || first === 0x27) {
    const [value, after] = quoted(line, start);
    key = checkedKey(value);
    end = after;
  } else {
    if (INDICATORS.has(first)) return ['', -1];
    const colon = keyColon(line, start);
    if (colon < 0) return ['', -1]; // a scalar such as `127.0.0.1:8080`, not a key
    const text = line.slice(start, colon);
    if (text.includes(':')) decline(); // a key with a colon in it: legal, rare
    // Trailing spaces before the colon and comments inside a key are legal but rare: decline.
    if (text.charCodeAt(text.length - 1) === SPACE || text.includes(' #')) decline();
    key = plainKey(text);
    end = colon;
  }
  if (line.charCodeAt(end) !== COLON) return ['', -1];
  const next = line.charCodeAt(end + 1);
  if (!(Number.isNaN(next) || next === SPACE)) decline();
  return [key, end + 1];
}

/** The first colon at or after `start` followed by a space or the end of the line, or -1. */
export function keyColon(line: string, start: number): number {
  for (let i = line.indexOf(':', start); i >= 0; i = line.indexOf(':', i + 1)) {
    const next = line.charCodeAt(i + 1);
    if (Number.isNaN(next) || next === SPACE) return i;
  }
  return -1;
}

/** A plain scalar used as a key, as the package turns it into an object key. */
export function plainKey(text: string): string {
  const value = resolvePlain(text);
  return checkedKey(value === null ? '' : String(value));
}

/** `<<` is a merge key and `__proto__` would set a prototype: both take the full parser's path. */
export function checkedKey(key: string): string {
  if (key === '<<' || key === '__proto__') decline();
  return key;
}

/** Drops trailing spaces (only spaces: YAML does not trim other white space). */
export function trimSpaces(text: string): string {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === SPACE) end--;
  return end === text.length ? text : text.slice(0, end);
}

/** A value that fills the rest of a line: flow collection, quoted or plain scalar. */
export function inlineValue(line: string, start: number): unknown {
  const first = line.charCodeAt(start);
  let value: unknown;
  let end: number;
  if (first === 0x5b || first === 0x7b) {
    [value, end] = flow(line, start);
  } else if (first === 0x22 || first === 0x27) {
    [value, end] = quoted(line, start);
  } else {
    if (INDICATORS.has(first)) {
      // `-`, `?` and `:` start a plain scalar when a non-space follows (`-1`, `:x`)
      const next = line.charCodeAt(start + 1);
      if (!(first === DASH || first === 0x3f || first === COLON) || Number.isNaN(next) || next === SPACE) decline();
    }
    let stop = line.indexOf(' #', start);
    if (stop < 0) stop = line.length;
    const text = trimSpaces(line.slice(start, stop));
    if (text.includes(': ') || text.endsWith(':')) decline(); // a second key on the line: an error
    return resolvePlain(text);
  }
  // After a quoted or flow value: only spaces and a comment.
  const rest = skipSpaces(line, end);
  if (rest < line.length && (line.charCodeAt(rest) !== HASH || rest === end)) decline();
  return value;
}

/** A quoted scalar on one line starting at `start`; returns the value and the index after it. */
export function quoted(line: string, start: number): [string, number] {
  const q = line[start]!;
  let out = '';
  let i = start + 1;
  for (;;) {
    const end = line.indexOf(q, i);
    if (end < 0) decline(); // continues on the next line
    if (q === "'") {
      out += line.slice(i, end);
      if (line[end + 1] === "'") {
        out += "'";
        i = end + 2;
        continue;
      }
      return [out, end + 1];
    }
    const backslash = line.indexOf('\\', i);
    if (backslash < 0 || backslash > end) return [out + line.slice(i, end), end + 1];
    out += line.slice(i, backslash);
    const escaped = ESCAPES[line[backslash + 1] ?? ''];
    if (escaped === undefined) decline(); // \x, \u and friends: the full parser's job
    out += escaped;
    i = backslash + 2;
  }
}

export const ESCAPES: Record<string, string> = { '\\': '\\', '"': '"', '/': '/', n: '\n', t: '\t', r: '\r', '0': '\0', ' ': ' ' };

/** A flow collection wholly on this line, starting at `start` with `[` or `{`. */
export function flow(line: string, start: number): [unknown, number] {
  const isMap = line.charCodeAt(start) === 0x7b;
  const close = isMap ? 0x7d : 0x5d;
  const seq: unknown[] = [];
  const map: JsMap = {};
  let i = skipSpaces(line, start + 1);
  if (line.charCodeAt(i) === close) return [isMap ? map : seq, i + 1];
  for (;;) {
    if (isMap) {
      let key: string;
      const first = line.charCodeAt(i);
      if (first === 0x22 || first === 0x27) {
        [key, i] = quoted(line, i);
        key = checkedKey(key);
        if (line.charCodeAt(i) !== COLON) decline();
      } else {
        if (INDICATORS.has(first) || Number.isNaN(first)) decline();
        const colon = line.indexOf(':', i);
        if (colon < 0) decline();
        const text = line.slice(i, colon);
        if (/[,[\]{}#]/.test(text) || text.endsWith(' ')) decline();
        key = plainKey(text);
        i = colon;
      }
      if (line.charCodeAt(i + 1) !== SPACE || Object.hasOwn(map, key)) decline(); // `a:b`, `a:` or a repeat
      let value: unknown;
      [value, i] = flowItem(line, skipSpaces(line, i + 1));
      map[key] = value;
    } else {
      let value: unknown;
      [value, i] = flowItem(line, i);
      seq.push(value);
    }
    i = skipSpaces(line, i);
    const c = line.charCodeAt(i);
    if (c === close) return [isMap ? map : seq, i + 1];
    if (c !== 0x2c) decline();
    i = skipSpaces(line, i + 1);
    if (line.charCodeAt(i) === close) decline(); // a trailing comma
  }
}

/** One value inside a flow collection. */
export function flowItem(line: string, i: number): [unknown, number] {
  const first = line.charCodeAt(i);
  if (first === 0x5b || first === 0x7b) return flow(line, i);
  if (first === 0x22 || first === 0x27) return quoted(line, i);
  if (Number.isNaN(first) || INDICATORS.has(first)) decline();
  let end = i;
  for (; end < line.length; end++) {
    const c = line.charCodeAt(end);
    if (c === 0x2c || c === 0x5d || c === 0x7d) break;
    // Brackets, a colon that makes an implicit pair (`a: b`, `a:` at the end of the item) or a
    // comment inside an item: leave it to the full parser. `127.0.0.1:8080` is one scalar.
    if (c === 0x5b || c === 0x7b || (c === HASH && line.charCodeAt(end - 1) === SPACE)) decline();
    if (c === COLON) {
      const next = line.charCodeAt(end + 1);
      if (Number.isNaN(next) || next === SPACE || next === 0x2c || next === 0x5d || next === 0x7d) decline();
    }
  }
  return [resolvePlain(trimSpaces(line.slice(i, end))), end];
}

/** A plain scalar's value under YAML 1.2's core schema, resolved as the `yaml` package does. */
export function resolvePlain(s: string): unknown {
  if (s === '') decline();
  const first = s.charCodeAt(0);
  // Most scalars are words, paths and addresses: one test rules out every typed form.
  if (!/^[-+.0-9~nNtTfF]/.test(s)) return s;
  if (first >= 0x30 && first <= 0x39 && /^[0-9]+$/.test(s)) return parseInt(s, 10);
  if (/^(?:~|[Nn]ull|NULL)?$/.test(s)) return null;
  if (/^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/.test(s)) return first === 0x74 || first === 0x54;
  if (/^0o[0-7]+$/.test(s)) return parseInt(s.substring(2), 8);
  if (/^[-+]?[0-9]+$/.test(s)) return parseInt(s, 10);
  if (/^0x[0-9a-fA-F]+$/.test(s)) return parseInt(s.substring(2), 16);
  if (/^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/.test(s)) {
    return s.slice(-3).toLowerCase() === 'nan' ? NaN : s[0] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  if (/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/.test(s)) return parseFloat(s);
  if (/^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/.test(s)) return parseFloat(s);
  return s;
}
