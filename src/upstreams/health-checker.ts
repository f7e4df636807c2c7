import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { HealthCheckConfig } from '../config/config-types.js';
import type { TargetState } from './target-state.js';

/**
 * Active health checks for one target: a GET of `path` every `interval`; a 2xx or 3xx within
 * `timeout` passes. Probes use their own short-lived connection so that they measure whether
 * the target accepts new connections, not whether an old pooled socket is still open.
 * Returns the stop function.
 */
export function startHealthChecker(target: TargetState, hc: HealthCheckConfig): () => void {
  let stopped = false;
  let inProgress = false;
  const url = new URL(hc.path, target.url);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;

  const probe = () => {
    if (stopped || inProgress) return;
    inProgress = true;
    const startedAt = Date.now();
    let settled = false;
    const done = (ok: boolean, reason: string) => {
      if (settled) return;
      settled = true;
      inProgress = false;
      clearTimeout(timer);
      if (stopped) return;
      // The start time, so a deploy script can wait for a check begun after its restart.
      target.lastCheck = { at: startedAt, ok };
      if (ok) target.recordProbePass();
      else target.recordFailure(reason);
    };
    const req = send(url, { method: 'GET', agent: false, headers: { 'user-agent': 'portico-health-check', connection: 'close' } }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      done(status >= 200 && status < 400, `health check status ${status}`);
    });
    const timer = setTimeout(() => {
      done(false, 'health check timeout');
      req.destroy();
    }, hc.timeoutMs);
    timer.unref();
    req.on('error', (err: NodeJS.ErrnoException) => done(false, `health check ${err.code ?? err.message}`));
    req.end();
  };

  const interval = setInterval(probe, hc.intervalMs);
  interval.unref();
  probe();
  return () => {
    stopped = true;
    clearInterval(interval);
  };
}
