import type { Document, LineCounter, Node } from 'yaml';
import { yamlPackage } from './yaml-package.js';

/** A 1-based position in the config file. */
export interface SourcePosition {
  readonly line: number;
  readonly col: number;
}

interface Entry {
  readonly key: SourcePosition | undefined;
  readonly value: SourcePosition;
}

type Path = readonly (string | number)[];

/**
 * Maps JSON paths of the parsed document back to positions in the YAML source, following
 * aliases and `<<` merge keys into the anchor they came from, so errors on merged values still
 * point at a real line.
 */
export class SourceMap {
  private readonly entries = new Map<string, Entry>();

  constructor(doc: Document, private readonly lines: LineCounter) {
    const root = doc.contents as Node | null;
    if (root) {
      this.entries.set('', { key: undefined, value: this.pos(root.range?.[0] ?? 0) });
      this.walk(doc, root, []);
    }
  }

  /** Position of the key at `path` (or of the value when asked or when there is no key). */
  locate(path: Path, target: 'key' | 'value' = 'value'): SourcePosition {
    for (let n = path.length; n >= 0; n--) {
      const entry = this.entries.get(pathKey(path.slice(0, n)));
      if (entry) return (target === 'key' && n === path.length && entry.key) || entry.value;
    }
    return { line: 1, col: 1 };
  }

  private pos(offset: number): SourcePosition {
    const { line, col } = this.lines.linePos(offset);
    return { line, col };
  }

  private walk(doc: Document, input: unknown, path: (string | number)[], depth = 0): void {
    const { isAlias, isMap, isSeq } = yamlPackage();
    if (depth > 64) return; // anchors can nest; a hostile file must not recurse forever
    const node = isAlias(input) ? input.resolve(doc) : input;
    if (isMap(node)) {
      const merges: unknown[] = [];
      const seen = new Set<string>();
      for (const pair of node.items) {
        const keyText = keyName(pair.key);
        if (keyText === '<<') {
          merges.push(pair.value);
          continue;
        }
        seen.add(keyText);
        this.record(doc, [...path, keyText], pair.key, pair.value, depth);
      }
      // YAML merge: explicit keys win, then earlier merge sources win over later ones.
      for (const m of merges) {
        const resolved = isAlias(m) ? m.resolve(doc) : m;
        const sources = isSeq(resolved) ? resolved.items : [resolved];
        for (const s of sources) {
          const src = isAlias(s) ? s.resolve(doc) : s;
          if (!isMap(src)) continue;
          for (const pair of src.items) {
            const keyText = keyName(pair.key);
            if (seen.has(keyText) || keyText === '<<') continue;
            seen.add(keyText);
            this.record(doc, [...path, keyText], pair.key, pair.value, depth);
          }
        }
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => this.record(doc, [...path, String(i)], undefined, item, depth));
    }
  }

  private record(doc: Document, path: (string | number)[], key: unknown, value: unknown, depth: number): void {
    const keyOffset = (key as Node | undefined)?.range?.[0];
    const valueNode = value as Node | null | undefined;
    const valueOffset = valueNode?.range?.[0] ?? keyOffset ?? 0;
    this.entries.set(pathKey(path), {
      key: keyOffset === undefined ? undefined : this.pos(keyOffset),
      value: this.pos(valueOffset),
    });
    this.walk(doc, value, path, depth + 1);
  }
}

/** A map key as text. yaml 2.x parses a merge key as a Scalar whose value is Symbol('<<'). */
function keyName(key: unknown): string {
  const value = yamlPackage().isScalar(key) ? key.value : key;
  return typeof value === 'symbol' ? value.description ?? '' : String(value);
}

function pathKey(path: Path): string {
  return path.join('\u0000');
}
