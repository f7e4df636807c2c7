/**
 * A fast reader for the plain subset of YAML that config files are mostly written in: block
 * maps and sequences (including `- key: value` items and a sequence at its key's indentation),
 * one-line flow collections (`{ rate: 100/s }`, `["a", "b"]`), plain, single- and
 * double-quoted one-line scalars, and comments.
 *
 * The `yaml` package builds a full document (tokens, a syntax tree, nodes with positions) and
 * costs about 15 µs a line: 1.5 s for a file of 10,000 hosts. This reader goes straight to the
 * values: 250 ms for that file in a fresh process, under 100 ms once warm. It is only a shortcut: for anything outside the subset
 * (anchors, aliases, merge keys, tags, block scalars, multi-line scalars or flow collections,
 * several documents, tabs, a duplicate key, or any syntax error) it returns `undefined`, and
 * the caller uses the full parser, which reports errors with their positions. When it returns
 * a value, that value equals what the `yaml` package (core schema) gives for the same text; the
 * unit tests check this against the package on a corpus and on random mutations of it.
 */
export function parsePlainYaml(source: string): { value: unknown } | undefined {
  // Characters the subset never contains (tabs, CR, other control characters, a BOM, the
  // Unicode line separators): leave such files to the full parser.
  if (UNSUPPORTED_CHARS.test(source)) return undefined;
  try {
    return { value: new Reader(source).document() };
  } catch (err) {
    if (err === DECLINE) return undefined;
    throw err;
  }
}

// eslint-disable-next-line no-control-regex
const UNSUPPORTED_CHARS = /[\x00-\x09\x0b-\x1f\x7f\u0085\u2028\u2029\ufeff]/;

/** Thrown (one shared object, no stack to capture) when the text leaves the subset. */
const DECLINE = Object.freeze({ declined: true });

function decline(): never {
  throw DECLINE;
}

const SPACE = 32;
const HASH = 35;
const COLON = 58;
const DASH = 45;

/** Characters that may not start a plain scalar (YAML's indicators), checked by code. */
const INDICATORS = new Set([...'-?:,[]{}#&*!|>\'"%@`'].map((c) => c.charCodeAt(0)));

/** A map built like the `yaml` package's toJS builds it: a plain object, keys in file order. */
type JsMap = Record<string, unknown>;

class Reader {
  /** The lines that hold content (not blank, not only a comment), and their indentation. */
  private readonly lines: string[] = [];
  private readonly indents: number[] = [];
  private pos = 0;

  constructor(source: string) {
    for (const line of source.split('\n')) {
      let i = 0;
      while (line.charCodeAt(i) === SPACE) i++;
      if (i === line.length || line.charCodeAt(i) === HASH) continue;
      if (i === 0 && (line.startsWith('---') || line.startsWith('...'))) decline(); // document markers
      this.lines.push(line);
      this.indents.push(i);
    }
  }

  /** The whole file: a block map at column 0, or nothing (an empty document is null). */
  document(): unknown {
    if (this.lines.length === 0) return null;
    if (this.indents[0] !== 0) decline();
    const value = this.map(0, 0);
    if (this.pos !== this.lines.length) decline();
    return value;
  }

  /**
   * A block map whose keys stand at `col`; its first key starts at `start` of the current line
   * (after a `- ` when the map is a sequence item), the others on lines indented to `col`.
   */
  private map(col: number, start: number): JsMap {
    const out: JsMap = {};
    this.entry(out, col, start);
    while (this.pos < this.lines.length) {
      const indent = this.indents[this.pos]!;
      if (indent < col) break;
      if (indent > col) decline();
      this.entry(out, col, indent);
    }
    return out;
  }

  /** One `key: value` of a block map, starting at `start` of the current line. */
  private entry(out: JsMap, col: number, start: number): void {
    const line = this.lines[this.pos]!;
    const [key, afterKey] = blockKey(line, start);
    if (afterKey < 0 || Object.hasOwn(out, key)) decline();
    const valueStart = skipSpaces(line, afterKey);
    this.pos++;
    if (valueStart === line.length || line.charCodeAt(valueStart) === HASH) {
      out[key] = this.nested(col, true);
    } else {
      out[key] = inlineValue(line, valueStart);
      this.noContinuation(col);
    }
  }

  /** A block sequence whose dashes stand at `col`. */
  private seq(col: number): unknown[] {
    const out: unknown[] = [];
    while (this.pos < this.lines.length && this.indents[this.pos] === col) {
      const line = this.lines[this.pos]!;
      if (!isDash(line, col)) break;
      const itemStart = skipSpaces(line, col + 1);
      if (itemStart === line.length || line.charCodeAt(itemStart) === HASH) {
        this.pos++;
        out.push(this.nested(col, false));
      } else if (isDash(line, itemStart)) {
        decline(); // `- - a`: a compact nested sequence
      } else if (blockKey(line, itemStart)[1] >= 0) {
        out.push(this.map(itemStart, itemStart)); // `- key: value`: a map at the key's column
      } else {
        this.pos++;
        out.push(inlineValue(line, itemStart));
        this.noContinuation(col);
      }
    }
    if (this.pos < this.lines.length && this.indents[this.pos]! > col) decline();
    return out;
  }

  /**
   * The value on the lines after `key:` or `-`: a block more indented than `col`, or (after a
   * key only) a sequence at `col` itself, or nothing (null).
   */
  private nested(col: number, sameColumnSeq: boolean): unknown {
    if (this.pos >= this.lines.length) return null;
    const indent = this.indents[this.pos]!;
    const line = this.lines[this.pos]!;
    if (indent > col) return isDash(line, indent) ? this.seq(indent) : this.map(indent, indent);
    if (sameColumnSeq && indent === col && isDash(line, indent)) return this.seq(indent);
    return null;
  }

  /** After a one-line value, a more indented line would continue it (a multi-line scalar). */
  private noContinuation(col: number): void {
    if (this.pos < this.lines.length && this.indents[this.pos]! > col) decline();
  }
}

/** Whether `line` has a sequence dash at `i` (followed by a space or the end of the line). */
function isDash(line: string, i: number): boolean {
  if (line.charCodeAt(i) !== DASH) return false;
  const next = line.charCodeAt(i + 1);
  return Number.isNaN(next) || next === SPACE;
}

function skipSpaces(line: string, i: number): number {
  while (line.charCodeAt(i) === SPACE) i++;
  return i;
}

/**
 * The key of a block map entry at `start` and the index after its colon, or index -1 when the
 * text there is not a `key:` (then it may still be a scalar; the caller decides).
 */
function blockKey(line: string, start: number): [string, number] {
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
function keyColon(line: string, start: number): number {
  for (let i = line.indexOf(':', start); i >= 0; i = line.indexOf(':', i + 1)) {
    const next = line.charCodeAt(i + 1);
    if (Number.isNaN(next) || next === SPACE) return i;
  }
  return -1;
}

/** A plain scalar used as a key, as the package turns it into an object key. */
function plainKey(text: string): string {
  const value = resolvePlain(text);
  return checkedKey(value === null ? '' : String(value));
}

/** `<<` is a merge key and `__proto__` would set a prototype: both take the full parser's path. */
function checkedKey(key: string): string {
  if (key === '<<' || key === '__proto__') decline();
  return key;
}

/** Drops trailing spaces (only spaces: YAML does not trim other white space). */
function trimSpaces(text: string): string {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === SPACE) end--;
  return end === text.length ? text : text.slice(0, end);
}

/** A value that fills the rest of a line: flow collection, quoted or plain scalar. */
function inlineValue(line: string, start: number): unknown {
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
function quoted(line: string, start: number): [string, number] {
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

const ESCAPES: Record<string, string> = { '\\': '\\', '"': '"', '/': '/', n: '\n', t: '\t', r: '\r', '0': '\0', ' ': ' ' };

/** A flow collection wholly on this line, starting at `start` with `[` or `{`. */
function flow(line: string, start: number): [unknown, number] {
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
function flowItem(line: string, i: number): [unknown, number] {
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
function resolvePlain(s: string): unknown {
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
