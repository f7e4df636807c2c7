import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import t from 'tap';
import { eventually } from '../helpers/eventually.js';
import { CLI, E2E_PREAMBLE, startOwnedPortico } from './helpers/portico-process.js';

// docs/tls.md: a stored self-signed certificate (local names, no ACME) is valid for 365 days, so
// it is not replaced every month and scanners do not flag "expires < 30 days".

const run = promisify(execFile);

t.test('a generated self-signed certificate lasts 365 days, as portico certs shows', async (t) => {
  const p = await startOwnedPortico(t, {
    config: `${E2E_PREAMBLE}hosts:
  local.test:
    routes: [ { respond: { status: 200, body: "hi" } } ]
`,
  });
  const line = await eventually(
    async () => {
      const { stdout } = await run(process.execPath, [CLI, 'certs', '-c', p.configFile], { cwd: p.dir });
      const fields = stdout.trim().split('\t');
      return fields[4] !== undefined && fields[4] !== '-' ? fields : undefined;
    },
    { within: 10_000, message: 'a stored certificate' },
  );
  t.equal(line[0], 'local.test');
  t.equal(line[1], 'self-signed');
  t.equal(line[4], '364', 'DAYS_LEFT: 365 days from an hour ago, rounded down');
});
