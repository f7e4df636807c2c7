import { readFile } from 'node:fs/promises';
import type { Document, LineCounter } from 'yaml';
import { ConfigError, type ConfigIssue } from '../errors.js';
import { configDigest } from './config-digest.js';
import type { Config } from './config-types.js';
import { normalizeConfig, type SemanticIssue } from './normalize-config.js';
import type { RoutesFile } from './schema.js';
import { findDuplicateKeys } from './find-duplicate-keys.js';
import { parsePlainYaml } from './parse-plain-yaml.js';
import { yamlPackage } from './yaml-package.js';
import { SourceMap } from './source-map.js';
import { validateSchema, type SchemaIssue } from './validate-schema.js';

/** The config plus the digest of the content it came from, so a reload can skip an unchanged file. */
export interface LoadedConfig {
  readonly config: Config;
  /** configDigest of the file's content. The text itself is not kept: 10,000 hosts are 2 MB of it. */
  readonly digest: string;
}

/**
 * A config file's content: its text, or its bytes as read (UTF-8). A reload reads bytes and
 * hands them to the config worker, so the serving thread never holds the text of a large file.
 */
export type ConfigSource = string | Uint8Array;

/**
 * Reads, parses, validates and normalises a routes.yaml. Every problem found is reported at
 * once as a ConfigError whose issues carry FILE:LINE:COL positions in the user's file.
 */
export async function loadConfig(file: string): Promise<LoadedConfig> {
  const source = await readConfigSource(file);
  return { config: parseConfig(file, source), digest: configDigest(source) };
}

/** Reads a routes.yaml's text; a missing or unreadable file is a ConfigError at FILE:1:1. */
export async function readConfigSource(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new ConfigError([{ file, line: 1, col: 1, message: `cannot read config file (${reason})`, path: [] }]);
  }
}

/** Reads a routes.yaml's bytes (for a reload: hashed, then parsed off-thread); errors as readConfigSource. */
export async function readConfigBytes(file: string): Promise<Uint8Array> {
  try {
    return await readFile(file);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new ConfigError([{ file, line: 1, col: 1, message: `cannot read config file (${reason})`, path: [] }]);
  }
}

/** A config file's text from its content, decoded as readFile(file, 'utf8') would (a BOM kept). */
export function configText(source: ConfigSource): string {
  return typeof source === 'string' ? source : Buffer.from(source.buffer, source.byteOffset, source.byteLength).toString('utf8');
}

/** Parses config text already in memory (the `file` name is used for positions and relative paths). */
export function parseConfig(file: string, source: string): Config {
  // Most files are plain YAML, which parsePlainYaml reads many times faster than the full
  // parser. The full document (with positions) is built when the shortcut declines (which
  // includes every YAML error) or when an issue has to be located in the file.
  let full: FullDocument | undefined;
  const document = () => (full ??= parseFullDocument(file, source));
  let raw = parsePlainYaml(source)?.value;
  if (raw === undefined) raw = document().raw;
  if (raw === null || raw === undefined) raw = {};
  // Built only when there is something to locate: mapping every node of a 10,000-host file
  // costs more than validating it.
  let sourceMap: SourceMap | undefined;
  const locate = (i: { path: readonly string[]; target: 'key' | 'value'; message: string }): ConfigIssue => ({
    file,
    ...(sourceMap ??= new SourceMap(document().doc, document().lineCounter)).locate(i.path, i.target),
    message: i.message,
    path: i.path,
  });
  const checked = validateSchema(raw);
  if (!checked.ok) {
    throw new ConfigError(inFileOrder([...checked.issues, ...semanticIssuesDespite(file, raw, checked.issues)].map(locate)));
  }
  const result = normalizeConfig(file, checked.value);
  if (result.issues.length > 0) throw new ConfigError(inFileOrder(result.issues.map(locate)));
  return result.config;
}

/** A file parsed by the `yaml` package: the document with its positions, and its value. */
interface FullDocument {
  readonly doc: Document;
  readonly lineCounter: LineCounter;
  readonly raw: unknown;
}

/** Parses with the `yaml` package; any YAML error (duplicate keys included) is a ConfigError at its position. */
function parseFullDocument(file: string, source: string): FullDocument {
  const { LineCounter, parseDocument } = yamlPackage();
  const lineCounter = new LineCounter();
  // uniqueKeys off: the package's own check is quadratic in a map's size; ours is linear.
  const doc = parseDocument(source, { merge: true, lineCounter, uniqueKeys: false, prettyErrors: false });
  const errors = doc.errors.map((e) => ({ offset: e.pos[0], message: e.message.split('\n')[0]! }));
  for (const offset of findDuplicateKeys(doc)) errors.push({ offset, message: 'Map keys must be unique' });
  if (errors.length > 0) {
    throw new ConfigError(
      errors
        .sort((a, b) => a.offset - b.offset)
        .map((e) => {
          const { line, col } = lineCounter.linePos(e.offset);
          return { file, line, col, message: `YAML: ${e.message}`, path: [] };
        }),
    );
  }
  try {
    return { doc, lineCounter, raw: doc.toJS({ maxAliasCount: 1000 }) };
  } catch (err) {
    throw new ConfigError([{ file, line: 1, col: 1, message: `YAML: ${(err as Error).message}`, path: [] }]);
  }
}

/**
 * Runs the semantic pass on a document that failed the schema, so that one `portico check`
 * lists every mistake (an unknown key *and* an undefined upstream), not just the first kind.
 * Issues at or under a path the schema already rejected are dropped: they would only restate
 * it. A document too broken for the semantic pass to walk yields the schema issues alone.
 */
function semanticIssuesDespite(file: string, raw: unknown, schemaIssues: readonly SchemaIssue[]): SemanticIssue[] {
  let issues: SemanticIssue[];
  try {
    issues = normalizeConfig(file, raw as RoutesFile).issues;
  } catch {
    return []; // malformed beyond the schema's report; that report stands on its own
  }
  const overlaps = (a: readonly string[], b: readonly string[]) => a.every((seg, i) => i >= b.length || b[i] === seg) || b.every((seg, i) => i >= a.length || a[i] === seg);
  return issues.filter((i) => !schemaIssues.some((s) => overlaps(s.path, i.path)));
}

/**
 * Issues sorted by position, as compilers list them, with exact repeats dropped: a mistake in an
 * anchor merged into several hosts is one mistake at one place in the file.
 */
function inFileOrder(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues
    .sort((a, b) => a.line - b.line || a.col - b.col)
    .filter((i) => {
      const key = `${i.line}:${i.col}:${i.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}
