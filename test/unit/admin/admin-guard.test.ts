import type { IncomingMessage } from 'node:http';
import t from 'tap';
import { adminRefusal } from '../../../src/admin/admin-guard.js';

const req = (method: string, headers: Record<string, string>) => ({ method, headers }) as unknown as IncomingMessage;

t.test('Host must be loopback or localhost, with any port', async (t) => {
  for (const host of ['localhost', 'LOCALHOST:9901', '127.0.0.1', '127.1.2.3:80', '[::1]', '[::1]:9901']) t.equal(adminRefusal(req('GET', { host })), undefined, host);
  for (const host of ['', 'evil.example', 'localhost.evil.example', '127.0.0.1.nip.io', '10.0.0.1', '[::2]:1', '0.0.0.0', 'localhost:99999999']) {
    t.type(adminRefusal(req('GET', { host })), 'string', `refused: ${JSON.stringify(host)}`);
  }
});

t.test('a POST with Origin must come from the admin origin itself', async (t) => {
  const host = '127.0.0.1:9901';
  t.equal(adminRefusal(req('POST', { host })), undefined, 'no Origin (curl)');
  t.equal(adminRefusal(req('POST', { host, origin: 'http://127.0.0.1:9901' })), undefined);
  t.equal(adminRefusal(req('POST', { host: 'localhost', origin: 'http://localhost:80' })), undefined, 'default port');
  for (const origin of ['http://localhost:9901', 'https://127.0.0.1:9901', 'http://127.0.0.1:9902', 'null', 'http://evil.example', 'garbage']) {
    t.type(adminRefusal(req('POST', { host, origin })), 'string', `refused: ${origin}`);
  }
  t.type(adminRefusal(req('DELETE', { host, origin: 'http://evil.example' })), 'string', 'any state-changing method');
  t.equal(adminRefusal(req('GET', { host, origin: 'http://evil.example' })), undefined, 'reads are guarded by Host alone');
});
