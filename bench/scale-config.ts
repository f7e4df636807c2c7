/**
 * A routes.yaml with many hosts, as a large deployment writes it: `hosts` host entries, each
 * with two routes (an API prefix with a rate limit, and `/`), spread over a few shared
 * upstreams. Used by the `scale` bench and the 10k-host test.
 */
export interface ScaleConfigOptions {
  readonly hosts: number;
  /** Upstream target for every host (`host:port`). */
  readonly target: string;
  /** Named upstreams the hosts are spread over (default 10); all point at `target`. */
  readonly upstreams?: number;
  /** Text placed before the generated sections (listen, admin, tls). */
  readonly preamble?: string;
  /** Changes host `i`'s `/` route: answers `respond` with this body instead of proxying. */
  readonly override?: { readonly host: number; readonly body: string };
}

/** The host name of host `i` in a generated config. */
export function scaleHostName(i: number): string {
  return `site-${i}.example.test`;
}

export function scaleConfig(opts: ScaleConfigOptions): string {
  const upstreams = opts.upstreams ?? 10;
  const lines: string[] = [opts.preamble ?? '', 'upstreams:'];
  for (let u = 0; u < upstreams; u++) lines.push(`  pool-${u}:`, `    targets: ["${opts.target}"]`);
  lines.push('hosts:');
  for (let i = 0; i < opts.hosts; i++) {
    lines.push(`  ${scaleHostName(i)}:`, '    tls: off', '    routes:');
    lines.push(`      - path: /api`, `        upstream: pool-${i % upstreams}`, '        rateLimit: { rate: 100/s, burst: 200 }');
    if (opts.override?.host === i) lines.push('      - path: /', `        respond: { status: 200, body: ${JSON.stringify(opts.override.body)} }`);
    else lines.push('      - path: /', `        upstream: pool-${i % upstreams}`);
  }
  return `${lines.join('\n')}\n`;
}
