/**
 * The catalogue of Portico's error codes and how each surfaces: the HTTP status Portico answers
 * with (and its reply body), the CLI exit code, or neither (logged, then a fallback or retry).
 * proxy-error-status.ts maps errors to statuses through this table alone.
 */
export const ERROR_CATALOGUE = {
  /** A config with issues, each as FILE:LINE:COL (exit 1, `/reload` 400, a log line). */
  PORTICO_CONFIG_INVALID: { exit: 1 },
  /** Bad command-line usage. */
  PORTICO_USAGE: { exit: 2 },
  /** The target refused, reset or did not accept the connection in time. */
  PORTICO_UPSTREAM_UNREACHABLE: { status: 502, body: 'Bad Gateway\n' },
  /** No first byte within `timeouts.response`. */
  PORTICO_UPSTREAM_TIMEOUT: { status: 504, body: 'Gateway Timeout\n' },
  /** Every target of the pool is down, drained or at weight 0: answered at once. */
  PORTICO_NO_HEALTHY_TARGET: { status: 502, body: 'Bad Gateway\n' },
  /** A request body over `maxBodySize`. */
  PORTICO_BODY_TOO_LARGE: { status: 413, body: 'Payload Too Large\n' },
  /** The bcrypt pool's queue is full: the gateway's capacity, not the client's fault. */
  PORTICO_AUTH_BUSY: { status: 503, body: 'Service Unavailable\n' },
  /** A bcrypt worker thread died during a comparison: that request gets 500, the thread is replaced. */
  PORTICO_AUTH_WORKER_FAILED: { status: 500, body: 'Internal Server Error\n' },
  /** A comparison asked of a pool already closed (shutdown). */
  PORTICO_AUTH_CLOSED: {},
  /** Redis or the certificate store is unreachable: logged once, local fallback. */
  PORTICO_STORE_UNAVAILABLE: {},
  /** An ACME order or challenge failed: logged with the CA's reason, retried with backoff. */
  PORTICO_ACME_FAILED: {},
  /** A certificate or key that does not parse or does not match: the old pair keeps serving. */
  PORTICO_TLS_INVALID: {},
} as const satisfies Record<string, { status?: number; body?: string; exit?: number }>;

/** One of Portico's stable error codes. */
export type PorticoErrorCode = keyof typeof ERROR_CATALOGUE;

/** Base error with a stable machine-readable code. */
export class PorticoError extends Error {
  readonly code: PorticoErrorCode;

  constructor(code: PorticoErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PorticoError';
    this.code = code;
  }
}

/** One problem in a config file, located in the user's source. */
export interface ConfigIssue {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly message: string;
  /** JSON path of the offending node, for programmatic use. */
  readonly path: readonly (string | number)[];
}

/** An invalid configuration: every issue found, not just the first. */
export class ConfigError extends PorticoError {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    super('PORTICO_CONFIG_INVALID', issues.map(formatIssue).join('\n'));
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/** `FILE:LINE:COL: message`, the format editors and CI annotate. */
export function formatIssue(issue: ConfigIssue): string {
  return `${issue.file}:${issue.line}:${issue.col}: ${issue.message}`;
}
