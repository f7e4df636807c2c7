/** Catalogue of Portico's error codes; each has exactly one way to surface (see proxy-error-status). */
export type PorticoErrorCode =
  | 'PORTICO_CONFIG_INVALID'
  | 'PORTICO_USAGE'
  | 'PORTICO_UPSTREAM_UNREACHABLE'
  | 'PORTICO_UPSTREAM_TIMEOUT'
  | 'PORTICO_NO_HEALTHY_TARGET'
  | 'PORTICO_STORE_UNAVAILABLE'
  | 'PORTICO_ACME_FAILED'
  | 'PORTICO_TLS_INVALID';

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
