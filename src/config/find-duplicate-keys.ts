import type { Document } from 'yaml';
import { yamlPackage } from './yaml-package.js';

/**
 * Offsets of every map key that repeats an earlier key of the same map, in file order. The
 * `yaml` package can do this check itself (`uniqueKeys`), but compares each key with every
 * earlier one, which is quadratic in the size of a map: 10,000 hosts cost seconds. This walk
 * keeps one Set per map and reports the same keys at the same places: scalar keys equal by
 * value (`a`, `"a"` and `'a'` are one key; `1` and `"1"` are two), `<<` merge keys exempt, and
 * complex keys (a sequence or map as key) never equal to each other.
 */
export function findDuplicateKeys(doc: Document): number[] {
  const { isMap, isPair, isScalar, isSeq } = yamlPackage();
  const offsets: number[] = [];
  const stack: unknown[] = [doc.contents];
  // Iterative: a deeply nested hostile file must not exhaust the call stack.
  while (stack.length > 0) {
    const node = stack.pop();
    if (isMap(node)) {
      const seen = new Set<unknown>();
      for (const pair of node.items) {
        const key = pair.key;
        // With `merge: true` a `<<` key parses to a Scalar whose value is a symbol.
        if (isScalar(key) && typeof key.value !== 'symbol') {
          if (seen.has(key.value)) offsets.push(key.range?.[0] ?? 0);
          else seen.add(key.value);
        }
        stack.push(key, pair.value);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) stack.push(item);
    } else if (isPair(node)) {
      stack.push(node.key, node.value);
    }
  }
  return offsets.sort((a, b) => a - b);
}

