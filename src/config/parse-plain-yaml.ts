import { DECLINE, HASH, SPACE, blockKey, decline, inlineValue, isDash, skipSpaces, type JsMap } from './plain-yaml-line.js';

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

/** A map built like the `yaml` package's toJS builds it: a plain object, keys in file order. */

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
