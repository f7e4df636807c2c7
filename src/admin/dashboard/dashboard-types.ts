// The shape of GET /dashboard.json, shared by the server that builds it and the page that
// reads it (the page imports these as types only: nothing of this file runs in the browser).

/** One target as GET /upstreams shows it; the dashboard passes it on unchanged. */
export interface DashboardTarget {
  readonly url: string;
  readonly healthy: boolean;
  readonly inFlight: number;
  /** `host:port`, as the drain and enable endpoints name the target. */
  readonly target?: string;
  readonly weight?: number;
  /** Traffic state: active, standby (weight 0), draining or drained. */
  readonly state?: string;
}

/** A page of a list: at 1,000 hosts only the page in view is sent. */
export interface Page<T> {
  readonly total: number;
  readonly page: number;
  readonly pageSize: number;
  readonly items: readonly T[];
}

export interface HostRow {
  readonly name: string;
  readonly aliases: readonly string[];
  readonly tls: string;
  readonly auth: boolean;
  readonly noindex: boolean;
  readonly rateLimit: boolean;
  readonly routes: readonly { readonly path: string; readonly action: string }[];
  /** Requests per second over the last seconds; null until the page has polled for a while. */
  readonly rps: number | null;
  /** Requests per second per sample interval over the last minutes, oldest first. */
  readonly series: readonly number[];
  /** Responses by class (1xx..5xx) over the last minutes. */
  readonly classes: readonly number[];
  /** Requests since start. */
  readonly total: number;
}

export interface UpstreamRow {
  readonly name: string;
  readonly balance: string | null;
  readonly healthCheck: string | null;
  readonly targets: readonly DashboardTarget[];
}

export interface CertificateRow {
  readonly host: string;
  readonly source: string;
  readonly temporary: boolean;
  readonly issuer: string;
  readonly notAfter: string;
  readonly daysLeft: number;
}

/** One reload as the dashboard lists it. */
export interface ReloadRow {
  /** Epoch ms. */
  readonly at: number;
  readonly result: 'ok' | 'error';
  /** The config version now serving (after a reload that applied a new config). */
  readonly version: number | null;
  /** Valid again: the file was put back to the content already serving (after a rejected edit). */
  readonly unchanged: boolean;
  /** Each error as `FILE:LINE:COL: message`, or the plain message when it has no position. */
  readonly errors: readonly string[];
  /** How many reloads in a row failed with exactly these errors (an editor's save is often two file events). */
  readonly count: number;
}

/** The body of GET /dashboard.json. */
export interface DashboardState {
  readonly now: number;
  /** Start of the window the rates cover (the first poll, at most five minutes ago). */
  readonly since: number;
  readonly summary: {
    readonly hosts: number;
    readonly routes: number;
    readonly upstreams: number;
    readonly targets: { readonly total: number; readonly healthy: number };
    readonly rps: number | null;
    readonly rateLimited: number;
    readonly authRefused: number;
    /** Credential checks answered 503 because the bcrypt queue was full. */
    readonly authBusy: number;
  };
  readonly hosts: Page<HostRow>;
  readonly upstreams: Page<UpstreamRow>;
  readonly certificates: Page<CertificateRow>;
  readonly rateLimited: readonly { readonly scope: string; readonly count: number }[];
  readonly reloads: readonly ReloadRow[];
}
