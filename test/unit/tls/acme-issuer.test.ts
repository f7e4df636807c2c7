import t from 'tap';
import { createAcmeIssuer } from '../../../src/tls/acme-issuer.js';
import { FileCertStore } from '../../../src/tls/file-cert-store.js';
import { createMemoryChallengeStore } from '../../../src/tls/memory-challenge-store.js';
import { tlsHost } from '../../helpers/tls-config.js';
import { createLogSink } from '../../helpers/log-sink.js';

t.test('orders only names the config allows', async (t) => {
  const store = new FileCertStore(t.testdir());
  const issuer = createAcmeIssuer({ store, challenges: createMemoryChallengeStore(), log: createLogSink().logger });
  // An unreachable directory: the assertion must fire before any network or account work.
  const acme = { email: 'ops@example.test', directoryUrl: 'https://127.0.0.1:9/dir', caFile: undefined, renewBeforeMs: 1 };
  const host = tlsHost('a.test', { kind: 'acme' }, ['www.a.test']);
  await t.rejects(issuer.issue(host, acme, new Set(['a.test'])), { code: 'PORTICO_ACME_FAILED', message: /www\.a\.test/ });
  await t.rejects(issuer.issue(tlsHost('*.a.test', { kind: 'acme' }), acme, new Set(['*.a.test'])), { code: 'PORTICO_ACME_FAILED' }, 'never a wildcard over HTTP-01');
  t.same(await store.list(''), [], 'no account key created');
});
