import t from 'tap';
import { warnRestartOnly } from '../../../src/reload/restart-only-settings.js';
import { createLogSink } from '../../helpers/log-sink.js';
import { tlsConfig } from '../../helpers/tls-config.js';

// Settings read once at start: a reload that changes one says it needs a restart, by the name
// the operator wrote in routes.yaml; a reload that changes none of them says nothing.

t.test('names each changed start-only setting', async (t) => {
  const sink = createLogSink();
  const prev = tlsConfig('/srv/certs', []);
  const next = { ...prev, workers: 4, tls: { ...prev.tls, certsDir: '/srv/other' }, log: { ...prev.log, level: 'debug' } };
  warnRestartOnly(prev, next, sink.logger);
  t.same(sink.filter({ event: 'reload' }).map((l) => l.keys), [['workers', 'tls.certs', 'log.level']]);
  t.match(sink.find({ event: 'reload' })?.msg, /take effect after a restart/);
});

t.test('silent when only reloadable settings change', async (t) => {
  const sink = createLogSink();
  const prev = tlsConfig('/srv/certs', []);
  warnRestartOnly(prev, { ...prev, log: { ...prev.log, access: true }, trustedProxies: ['10.0.0.0/8'] }, sink.logger);
  t.same(sink.filter({ event: 'reload' }), []);
});
