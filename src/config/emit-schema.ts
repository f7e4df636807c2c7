import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RoutesFileSchema } from './schema.js';

/**
 * The JSON Schema of routes.yaml as committed in `schema/routes.schema.json`, for editors
 * (yaml-language-server) and CI. Generated from the same TypeBox schema the loader validates
 * with, so the two cannot disagree; a unit test fails when the committed file is stale.
 */
export function emitSchema(): string {
  // `$schema` first: editors pick the draft from it; ajv's default draft is the same one.
  return `${JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', ...RoutesFileSchema }, null, 2)}\n`;
}

// `node dist/config/emit-schema.js OUT` (npm run schema) writes the file.
if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = process.argv[2];
  if (out === undefined) {
    process.stderr.write('usage: node dist/config/emit-schema.js OUT\n');
    process.exitCode = 2;
  } else {
    writeFileSync(out, emitSchema());
  }
}
