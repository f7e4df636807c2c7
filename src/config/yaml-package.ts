import { createRequire } from 'node:module';

type YamlPackage = typeof import('yaml');

let loaded: YamlPackage | undefined;

/**
 * The `yaml` package, loaded on first use. Most config files never need it (parsePlainYaml
 * reads them); it is there for the rest, for YAML errors and for locating schema issues.
 * Loading it costs about 50 ms of every `portico check` and of the serving thread's memory.
 * (Its Node entry is CommonJS, so it can be required synchronously.)
 */
export function yamlPackage(): YamlPackage {
  return (loaded ??= createRequire(import.meta.url)('yaml') as YamlPackage);
}
