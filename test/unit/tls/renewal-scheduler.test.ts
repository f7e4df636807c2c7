import t from 'tap';
import type { AcmeConfig } from '../../../src/config/config-types.js';
import type { AcmeIssuer } from '../../../src/tls/acme-issuer.js';
import { FileCertStore } from '../../../src/tls/file-cert-store.js';
import { createRenewalScheduler } from '../../../src/tls/renewal-scheduler.js';
import { createSelfSignedCertificate } from '../../../src/tls/self-signed.js';
import { eventually } from '../../helpers/eventually.js';
import { createLogSink } from '../../helpers/log-sink.js';
import { tlsHost } from '../../helpers/tls-config.js';

const ACME: AcmeConfig = { email: 'ops@example.test', directoryUrl: 'https://acme.invalid/dir', caFile: undefined, renewBeforeMs: 30 * 86_400_000 };

t.test('an order longer than the lock TTL keeps its lock; the lock is released when it ends', async (t) => {
  // The scheduler's timers are unref'd (a gateway's listeners keep it alive); so is nothing here.
  const alive = setInterval(() => {}, 1_000);
  t.teardown(() => clearInterval(alive));
  const store = new FileCertStore(t.testdir());
  const otherInstance = new FileCertStore(store.dir); // another process on the same certs directory
  let finishOrder!: () => void;
  const gate = new Promise<void>((resolve) => (finishOrder = resolve));
  let orderStarted!: () => void;
  const started = new Promise<void>((resolve) => (orderStarted = resolve));
  let orders = 0;
  const issuer: AcmeIssuer = {
    setHttpListener() {},
    async issue(host) {
      orders++;
      orderStarted();
      await gate; // a slow CA
      return createSelfSignedCertificate([host.name], { days: 90 });
    },
  };
  const issued: string[] = [];
  const { logger: log, lines } = createLogSink();
  const scheduler = createRenewalScheduler({
    log, store, issuer, now: Date.now,
    backoffBaseMs: 50, pollIntervalMs: 60_000, lockPollMs: 50, orderLockTtlMs: 450,
    onCertificate: (name) => issued.push(name),
  });
  t.teardown(() => scheduler.close());
  scheduler.set([tlsHost('slow.test', { kind: 'acme' })], ACME);
  scheduler.enableOrders();
  await started;

  // A TTL of 450 ms (a refresh every 150 ms) leaves room for a busy machine's timer delays.
  const until = Date.now() + 1_800; // four lock lifetimes
  while (Date.now() < until) {
    const stolen = await otherInstance.lock('acme/slow.test', 60_000);
    if (stolen) {
      await stolen.release();
      return t.fail('another instance got the order lock while the order was running');
    }
    await new Promise((resolve) => setTimeout(resolve, 40));
  }
  t.pass('the lock was held for four times its TTL');
  finishOrder();
  await eventually(() => issued.includes('slow.test') || undefined, { message: 'certificate issued' });
  const after = await eventually(() => otherInstance.lock('acme/slow.test', 60_000), { message: 'lock released' });
  await after.release();
  t.equal(orders, 1, 'one order');
  t.same(lines.filter((l) => /lock/.test(String(l.msg ?? ''))), [], 'no lock warnings');
});

t.test('lock refreshes never overlap, and release waits for one still running', async (t) => {
  const alive = setInterval(() => {}, 1_000);
  t.teardown(() => clearInterval(alive));
  const files = new FileCertStore(t.testdir());
  const events: string[] = [];
  let refreshesRunning = 0;
  let maxRunning = 0;
  // A store whose lock refresh is slower than the refresh interval (a slow disk or Redis).
  const store = {
    load: (key: string) => files.load(key),
    store: (key: string, value: Buffer) => files.store(key, value),
    list: (prefix: string) => files.list(prefix),
    async lock(key: string, ttlMs: number) {
      const lock = await files.lock(key, ttlMs);
      if (!lock) return undefined;
      return {
        async refresh(ms: number) {
          refreshesRunning++;
          maxRunning = Math.max(maxRunning, refreshesRunning);
          events.push('refresh start');
          await new Promise((resolve) => setTimeout(resolve, 450)); // longer than the 200 ms interval
          const held = await lock.refresh(ms);
          refreshesRunning--;
          events.push('refresh end');
          return held;
        },
        async release() {
          events.push(refreshesRunning > 0 ? 'release during a refresh' : 'release');
          await lock.release();
        },
      };
    },
  };
  let finishOrder!: () => void;
  const gate = new Promise<void>((resolve) => (finishOrder = resolve));
  const issuer: AcmeIssuer = {
    setHttpListener() {},
    async issue(host) {
      await gate;
      return createSelfSignedCertificate([host.name], { days: 90 });
    },
  };
  const issued: string[] = [];
  const scheduler = createRenewalScheduler({
    log: createLogSink().logger, store, issuer, now: Date.now,
    backoffBaseMs: 50, pollIntervalMs: 60_000, lockPollMs: 50, orderLockTtlMs: 600, // a refresh every 200 ms
    onCertificate: (name) => issued.push(name),
  });
  t.teardown(() => scheduler.close());
  scheduler.set([tlsHost('slow.test', { kind: 'acme' })], ACME);
  scheduler.enableOrders();
  await eventually(() => events.filter((e) => e === 'refresh start').length >= 2, { within: 5_000, message: 'a second refresh starts' });
  finishOrder(); // the order ends while that refresh is still running
  await eventually(() => issued.includes('slow.test') && events.some((e) => e.startsWith('release')), { within: 5_000, message: 'issued and released' });
  t.equal(maxRunning, 1, 'one refresh at a time');
  t.same(events.slice(-3), ['refresh start', 'refresh end', 'release'], 'release waited for the running refresh');
});
