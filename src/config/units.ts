/**
 * Parsers for the units of routes.yaml. They run once, at config load: runtime code only ever
 * sees milliseconds, bytes and tokens per second.
 */

const DURATION_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const SIZE_BYTES: Readonly<Record<string, number>> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
const RATE_PER_SEC: Readonly<Record<string, number>> = { s: 1, m: 1 / 60, h: 1 / 3600 };

/** Source of the patterns, shared with the JSON schema so editors flag the same mistakes. */
export const DURATION_PATTERN = '^[0-9]+(ms|s|m|h|d)$';
export const SIZE_PATTERN = '^[0-9]+[bkmgBKMG]?$';
export const RATE_PATTERN = '^[0-9]+(\\.[0-9]+)?/(s|m|h)$';

const durationRe = /^([0-9]+)(ms|s|m|h|d)$/;
const sizeRe = /^([0-9]+)([bkmg]?)$/i;
const rateRe = /^([0-9]+(?:\.[0-9]+)?)\/(s|m|h)$/;

/** "500ms" | "10s" | "5m" | "12h" | "30d" → milliseconds; undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const m = durationRe.exec(text);
  if (!m) return undefined;
  return Number(m[1]) * DURATION_MS[m[2] as string]!;
}

/** "512k" | "10m" | "1g" | "2048" (bytes) → bytes; undefined when malformed. */
export function parseSize(input: string | number): number | undefined {
  if (typeof input === 'number') return Number.isSafeInteger(input) && input >= 0 ? input : undefined;
  const m = sizeRe.exec(input);
  if (!m) return undefined;
  return Number(m[1]) * SIZE_BYTES[(m[2] as string).toLowerCase()]!;
}

/** "100/s" | "5/m" | "1000/h" → tokens per second; undefined when malformed or zero. */
export function parseRate(text: string): { perSecond: number; count: number } | undefined {
  const m = rateRe.exec(text);
  if (!m) return undefined;
  const count = Number(m[1]);
  if (!(count > 0)) return undefined;
  return { perSecond: count * RATE_PER_SEC[m[2] as string]!, count };
}
