import bcrypt from 'bcryptjs';
import t from 'tap';
import { request } from '../helpers/http-request.js';
import { E2E_PREAMBLE, startOwnedPortico, startOwnedRecordingUpstream } from './helpers/portico-process.js';

// docs/protecting-environments.md: on a Basic-Auth host the client's Authorization header reaches
// the upstream (as with nginx), unless the host sets `basicAuth.forwardAuthorization: false`.

t.test('forwardAuthorization: the Basic credentials reach the upstream only when allowed', async (t) => {
  const upstream = await startOwnedRecordingUpstream(t);
  const hash = bcrypt.hashSync('s3cret', 4);
  const p = await startOwnedPortico(t, {
    config: `${E2E_PREAMBLE}hosts:
  keeps.test:
    tls: off
    basicAuth: { users: { alice: "${hash}" } }
    routes: [ { upstream: "${upstream.target}" } ]
  strips.test:
    tls: off
    basicAuth: { forwardAuthorization: false, users: { alice: "${hash}" } }
    routes: [ { upstream: "${upstream.target}" } ]
`,
  });
  const authorization = `Basic ${Buffer.from('alice:s3cret').toString('base64')}`;
  for (const host of ['keeps.test', 'strips.test']) {
    const r = await request(p.http, `/${host}`, { headers: { host, authorization } });
    t.equal(r.status, 200, `${host}: authenticated`);
  }
  const seen = (path: string) => upstream.requests.find((r) => r.url === path)?.headers.authorization;
  t.equal(seen('/keeps.test'), authorization, 'by default the upstream sees the header');
  t.equal(seen('/strips.test'), undefined, 'forwardAuthorization: false removes it');
  const config = JSON.parse((await request(p.admin, '/config', { headers: { host: '127.0.0.1' } })).body) as { hosts: { name: string; basicAuth: unknown }[] };
  t.match(config.hosts.find((h) => h.name === 'strips.test')?.basicAuth, { forwardAuthorization: false, users: { alice: '[redacted]' } }, '/config shows the setting');
});
