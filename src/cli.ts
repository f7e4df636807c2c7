#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runHashPassword } from './commands/hash-password.js';
import { ConfigError, ERROR_CATALOGUE, PorticoError, formatIssue } from './errors.js';

const USAGE = `Usage: portico <command> [options]

Commands:
  start [-c FILE]              run the gateway in the foreground
  check [-c FILE]              validate the configuration (like nginx -t)
  certs [-c FILE]              list TLS hosts and their certificates
  hash-password [--cost N]     read a password from stdin and print its bcrypt hash

Options:
  -c, --config FILE   configuration file (default: $PORTICO_CONFIG if not empty, else
                      ./routes.yaml)
  -h, --help          show this help
  -v, --version       show the version

Exit codes: 0 ok, 1 invalid configuration or failed check, 2 usage error.
`;

/** Bad command-line usage: exit 2 with the usage text (PORTICO_USAGE). */
class UsageError extends PorticoError {
  constructor(message: string) {
    super('PORTICO_USAGE', message);
  }
}

/** The package version, from the nearest package.json above this file (dist/ or build-test/src/). */
function version(): string {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version: string };
      if (pkg.name === 'portico') return pkg.version;
    } catch {
      // not at this level; try the next one up
    }
  }
  return 'unknown';
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        cost: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.version) return void process.stdout.write(`portico ${version()}\n`), 0;
  if (values.help || positionals.length === 0) {
    (values.help ? process.stdout : process.stderr).write(USAGE);
    return values.help ? 0 : 2;
  }
  const [command, ...rest] = positionals;
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"`);
  // An empty PORTICO_CONFIG (`PORTICO_CONFIG= portico start`, a blank line in an env file)
  // counts as unset, as SPEC §1 says: it never names a file called "".
  const file = values.config ?? (process.env.PORTICO_CONFIG || './routes.yaml');
  if (values.cost !== undefined && command !== 'hash-password') throw new UsageError('--cost only applies to hash-password');
  if (values.config !== undefined && command === 'hash-password') throw new UsageError('--config does not apply to hash-password');
  switch (command) {
    case 'start': {
      const { runStart } = await import('./commands/start.js');
      return runStart(file);
    }
    case 'check': {
      const { runCheck } = await import('./commands/check.js');
      return runCheck(file, process.stdout);
    }
    case 'certs': {
      const { runCertsCommand } = await import('./commands/certs-command.js');
      return runCertsCommand(file, process.stdout);
    }
    case 'hash-password':
      return runHashPassword(values.cost === undefined ? [] : ['--cost', values.cost], { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError) {
      for (const issue of err.issues) process.stderr.write(`${formatIssue(issue)}\n`);
      process.exitCode = ERROR_CATALOGUE.PORTICO_CONFIG_INVALID.exit;
    } else if (err instanceof UsageError) {
      process.stderr.write(`portico: ${err.message}\n\n${USAGE}`);
      process.exitCode = ERROR_CATALOGUE.PORTICO_USAGE.exit;
    } else {
      // Listener failures (port in use, permission) are operator errors, not crashes.
      const e = err as NodeJS.ErrnoException;
      process.stderr.write(`portico: ${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}\n`);
      process.exitCode = 1;
    }
  },
);
