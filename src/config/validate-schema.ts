import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { SCHEMA_TEXT, validate as generated } from './routes-validator.generated.js';
import { BCRYPT_HASH, ERROR_PAGES_DESCRIPTION, RoutesFileSchema, type RoutesFile } from './schema.js';

/** A schema violation, before it is located in the source. */
export interface SchemaIssue {
  readonly path: readonly string[];
  readonly target: 'key' | 'value';
  readonly message: string;
}

/** The options the validator is compiled with, at build time and at run time alike. */
// verbose: errors must carry `parentSchema`, which the typo hints and descriptions below read.
export const AJV_OPTIONS = { allErrors: true, strict: false, verbose: true } as const;

/**
 * The validator generated from the schema at build time (`npm run schema`), or, when the schema
 * changed since, one compiled now, on first use (ajv takes a fifth of a second for it). Never
 * on import: a gateway that parses its config in a worker thread imports this module on its
 * serving thread too, where the validator would never run.
 */
let compiled: ValidateFunction<RoutesFile> | undefined;
function validator(): ValidateFunction<RoutesFile> {
  if (compiled) return compiled;
  if (SCHEMA_TEXT === JSON.stringify(RoutesFileSchema)) return (compiled = generated as ValidateFunction<RoutesFile>);
  const { Ajv } = createRequire(import.meta.url)('ajv') as typeof import('ajv');
  return (compiled = new Ajv(AJV_OPTIONS).compile<RoutesFile>(RoutesFileSchema));
}

/** Checks the document against the schema and turns ajv's errors into one message per mistake. */
export function validateSchema(doc: unknown): { ok: true; value: RoutesFile } | { ok: false; issues: SchemaIssue[] } {
  const validate = validator();
  if (validate(doc)) return { ok: true, value: doc };
  return { ok: false, issues: explain(validate.errors ?? [], doc) };
}

function explain(errors: readonly ErrorObject[], doc: unknown): SchemaIssue[] {
  // Errors inside a failed anyOf are one per branch; keep only the branch that fits the value's
  // type (so `tls: {cert: x, kye: y}` reports the unknown key), else one summary message.
  const unions = errors.filter((e) => e.keyword === 'anyOf');
  const suppressed = new Set<ErrorObject>();
  const issues: SchemaIssue[] = [];
  for (const u of unions) {
    const base = u.schemaPath.slice(0, -'/anyOf'.length) + '/anyOf/';
    const inside = errors.filter((e) => e !== u && e.schemaPath.startsWith(base));
    inside.forEach((e) => suppressed.add(e));
    const value = valueAt(doc, u.instancePath);
    const branches = (u.parentSchema?.anyOf ?? []) as { type?: string }[];
    const fitting = branches.findIndex((b) => b.type === jsonType(value) && b.type !== 'string' && b.type !== 'integer');
    const branchErrors = fitting >= 0 ? inside.filter((e) => e.schemaPath.startsWith(`${base}${fitting}/`)) : [];
    if (branchErrors.length > 0) issues.push(...branchErrors.map((e) => describe(e, doc)));
    else issues.push({ path: toPath(u.instancePath), target: 'value', message: unionMessage(u, value) });
  }
  for (const e of errors) {
    if (e.keyword === 'anyOf' || suppressed.has(e)) continue;
    issues.push(describe(e, doc));
  }
  return dedupe(issues);
}

function describe(e: ErrorObject, doc: unknown): SchemaIssue {
  const path = toPath(e.instancePath);
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const known = Object.keys((e.parentSchema?.properties ?? {}) as object);
      if (e.parentSchema?.description === ERROR_PAGES_DESCRIPTION) {
        return { path: [...path, key], target: 'key', message: `no error page for "${key}": Portico answers only ${known.join(' ')} itself` };
      }
      const hint = closest(key, known);
      return { path: [...path, key], target: 'key', message: `unknown key "${key}"${hint ? `; did you mean "${hint}"?` : ''}` };
    }
    case 'required':
      return { path, target: 'key', message: `missing required key "${String(params.missingProperty)}"` };
    case 'pattern': {
      // The value is most likely the password itself: never echo it, and say how to hash it.
      if (e.parentSchema?.description === BCRYPT_HASH) {
        return { path, target: 'value', message: 'expected a bcrypt hash, not a plain-text password; make one with: npx portico hash-password' };
      }
      const what = (e.parentSchema?.description as string | undefined) ?? `a string matching ${String(params.pattern)}`;
      return { path, target: 'value', message: `invalid value ${JSON.stringify(valueAt(doc, e.instancePath))}: expected ${what}` };
    }
    case 'type': {
      // `interval: 10` is better answered with what a duration looks like than with "a string".
      const value = valueAt(doc, e.instancePath);
      const what = e.parentSchema?.description as string | undefined;
      if (what) return { path, target: 'value', message: `invalid value ${JSON.stringify(value)}: expected ${what}` };
      return { path, target: 'value', message: `expected ${article(String(params.type))}, got ${jsonType(value)}` };
    }
    case 'minimum':
    case 'maximum':
    case 'minItems':
    case 'minLength':
      return { path, target: 'value', message: `invalid value ${JSON.stringify(valueAt(doc, e.instancePath))}: ${e.message ?? 'out of range'}` };
    default:
      return { path, target: 'value', message: e.message ?? 'invalid value' };
  }
}

function unionMessage(u: ErrorObject, value: unknown): string {
  const desc = u.parentSchema?.description as string | undefined;
  if (desc) return `invalid value ${JSON.stringify(value)}: expected ${desc}`;
  const branches = (u.parentSchema?.anyOf ?? []) as { const?: unknown; type?: string }[];
  const consts = branches.map((b) => b.const).filter((c) => c !== undefined);
  if (consts.length > 0) return `invalid value ${JSON.stringify(value)}: expected one of ${consts.map((c) => String(c)).join(' | ')}`;
  // A union of plain types (a header value: string | null) has no constants to list.
  const types = branches.map((b) => (b.type === 'null' ? 'null' : article(b.type ?? 'value')));
  return `invalid value ${JSON.stringify(value)}: expected ${types.join(' or ')}`;
}

function toPath(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function valueAt(doc: unknown, pointer: string): unknown {
  let v = doc;
  for (const seg of toPath(pointer)) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[seg] : undefined;
  return v;
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

/** The known key within edit distance 2, so `upstrem:` suggests `upstream`. */
function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

function dedupe(issues: SchemaIssue[]): SchemaIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = `${i.path.join('/')}|${i.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
