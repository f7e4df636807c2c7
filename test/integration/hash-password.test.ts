import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import bcrypt from 'bcryptjs';
import t from 'tap';
import { request } from '../helpers/http-request.js';
import { startPortico } from '../helpers/start-portico.js';
import { echoHandler, startUpstream } from '../helpers/start-upstream.js';

// SPEC §1 `portico hash-password`, run as a real process, and its output used in a real config.

// build-test/test/integration/ → build-test/src/cli.js
const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

function hashPassword(args: string[], stdin: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'hash-password', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(stdin);
  });
}

let hash = '';

t.test('hash-password --cost 4 reads one line (without its \\r\\n) and prints one bcrypt hash', async (t) => {
  const r = await hashPassword(['--cost', '4'], 'secret\r\n');
  t.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split('\n');
  t.equal(lines.length, 2, 'exactly one line');
  t.equal(lines[1], '', 'ending in a newline');
  hash = lines[0] ?? '';
  t.match(hash, /^\$2[abxy]\$04\$[./A-Za-z0-9]{53}$/, 'a cost-4 bcrypt hash');
  t.ok(await bcrypt.compare('secret', hash), 'it verifies against "secret"');
  t.notOk(await bcrypt.compare('secret\r', hash), 'the \\r is not part of the password');
  t.notOk(r.stdout.includes('secret'), 'the password is not echoed');
});

t.test('the printed hash works in a config', async (t) => {
  const upstream = await startUpstream(echoHandler('behind-auth'));
  t.teardown(() => upstream.close());
  const portico = await startPortico(`
hosts:
  auth.test:
    tls: off
    basicAuth: { realm: CLI, users: { ops: "${hash}" } }
    routes: [ { upstream: "${upstream.target}" } ]
`);
  t.teardown(() => portico.close());
  const send = (password: string) =>
    request(portico.http, '/', { headers: { host: 'auth.test', authorization: `Basic ${Buffer.from(`ops:${password}`).toString('base64')}` } });
  const ok = await send('secret');
  t.equal(ok.status, 200);
  t.equal((JSON.parse(ok.body) as { name: string }).name, 'behind-auth');
  t.equal((await send('secret\r')).status, 401);
});
