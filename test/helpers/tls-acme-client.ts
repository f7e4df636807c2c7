import acme from 'acme-client';

interface AcmeAxiosDefaults {
  acmeSettings: { retryDefaultDelay: number };
  lookup?: (hostname: string, options: object, cb: (err: Error | null, address: string, family: number) => void) => void;
}

/**
 * Test-only tuning of acme-client's module-global axios instance. Its own HTTP-01 pre-check
 * fetches `http://<name>:<port>/…` through system DNS, where the test names (resolved to
 * 127.0.0.1 for Pebble by pebble-challtestsrv) do not exist, so every name is looked up as
 * 127.0.0.1; and its retry delay on connection errors (5 s × attempt) is removed so a stopped
 * Pebble fails in milliseconds. Returns a function restoring the defaults.
 */
export function acmeClientForTests(): () => void {
  const defaults = acme.axios.defaults as unknown as AcmeAxiosDefaults;
  const saved = { lookup: defaults.lookup, delay: defaults.acmeSettings.retryDefaultDelay };
  defaults.lookup = (_hostname, _options, cb) => cb(null, '127.0.0.1', 4);
  defaults.acmeSettings.retryDefaultDelay = 0;
  return () => {
    defaults.lookup = saved.lookup;
    defaults.acmeSettings.retryDefaultDelay = saved.delay;
  };
}
