/**
 * The normalised configuration: what `routes.yaml` means once units are parsed, defaults are
 * applied and relative paths are resolved. Runtime code only ever sees these types, never the
 * raw YAML strings ("10s", "100/s").
 */

/** An address to listen on; `host` undefined means all interfaces. */
export interface ListenAddress {
  readonly host: string | undefined;
  readonly port: number;
}

/** How a host gets its certificate. */
export type TlsMode =
  | { readonly kind: 'acme' }
  | { readonly kind: 'self-signed' }
  | { readonly kind: 'off' }
  | { readonly kind: 'file'; readonly certFile: string; readonly keyFile: string };

export interface AcmeConfig {
  readonly email: string;
  /** Directory URL, shortcuts already resolved. */
  readonly directoryUrl: string;
  /** Absolute path of an extra CA bundle to trust for the directory, if any. */
  readonly caFile: string | undefined;
  readonly renewBeforeMs: number;
}

export interface TlsConfig {
  /** Absolute path of the certificate storage directory. */
  readonly certsDir: string;
  readonly minVersion: 'TLSv1.2' | 'TLSv1.3';
  readonly acme: AcmeConfig | undefined;
}

export interface RedisConfig {
  readonly url: string;
  readonly prefix: string;
}

export type RateLimitKey = { readonly kind: 'ip' } | { readonly kind: 'header'; readonly name: string };

/** A token bucket: `burst` tokens at most, refilled at `ratePerSec`. */
export interface RateLimitConfig {
  readonly ratePerSec: number;
  readonly burst: number;
  readonly key: RateLimitKey;
  /** Identity of the limit ("10/s:20:ip"), so buckets of an unchanged limit survive reloads. */
  readonly id: string;
}

export interface HealthCheckConfig {
  readonly path: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly unhealthyAfter: number;
  readonly healthyAfter: number;
}

export type BalanceStrategy = 'round_robin' | 'least_conn' | 'ip_hash';

export interface TargetConfig {
  /** Origin URL, e.g. `http://127.0.0.1:8000`. */
  readonly url: string;
  /** Share of new requests relative to the other targets (0..1000, default 1); 0 = standby. */
  readonly weight: number;
}

export interface UpstreamConfig {
  /** Name under `upstreams:`, or a synthetic `inline:<targets>` name for inline targets. */
  readonly name: string;
  readonly targets: readonly TargetConfig[];
  readonly balance: BalanceStrategy;
  readonly healthCheck: HealthCheckConfig | undefined;
  readonly connectTimeoutMs: number;
  readonly responseTimeoutMs: number;
}

export type RouteAction =
  | { readonly kind: 'proxy'; readonly upstream: string }
  | {
      readonly kind: 'respond';
      readonly status: number;
      readonly body: string;
      readonly headers: Readonly<Record<string, string>>;
    }
  | { readonly kind: 'redirect'; readonly to: string; readonly status: number };

/** `allow` / `deny` lists as written (validated addresses and CIDRs); see SPEC §4 Access control. */
export interface AccessConfig {
  /** When present, only these addresses pass (an empty list refuses everyone). */
  readonly allow: readonly string[] | undefined;
  /** Checked first: a listed address is refused. */
  readonly deny: readonly string[];
}

/** An HTML error page, read when the config loads. */
export interface ErrorPage {
  /** Absolute path of the file. */
  readonly file: string;
  readonly html: string;
}

/** Status (401 403 404 429 502 503 504) → the page Portico serves for its own reply. */
export type ErrorPagesConfig = Readonly<Record<string, ErrorPage>>;

export interface RouteConfig {
  /** Normalised prefix: leading `/`, no trailing `/` except for the root `/`. */
  readonly path: string;
  readonly stripPrefix: boolean;
  readonly rewrite: string | undefined;
  readonly rateLimit: RateLimitConfig | undefined;
  readonly action: RouteAction;
  /** Compress proxied responses (the route's `compress`, else its host's; default false). */
  readonly compress: boolean;
  /** The route's access lists, else its host's (a route's lists replace the host's), or none. */
  readonly access: AccessConfig | undefined;
}

export interface BasicAuthConfig {
  readonly realm: string;
  /** user name → bcrypt hash. */
  readonly users: Readonly<Record<string, string>>;
  /** Pass the client's `Authorization` header on to the upstream (absent or true: yes, as nginx does). */
  readonly forwardAuthorization?: boolean;
}

export interface HostConfig {
  /** The configured name, lower case (`example.com`, `*.preview.example.com`, `*`). */
  readonly name: string;
  readonly aliases: readonly string[];
  readonly tls: TlsMode;
  /** Response header overrides; `null` removes the header. */
  readonly headers: Readonly<Record<string, string | null>>;
  readonly rateLimit: RateLimitConfig | undefined;
  readonly maxBodySize: number | undefined;
  readonly basicAuth: BasicAuthConfig | undefined;
  readonly noindex: boolean;
  /** The host's own access lists (for replies before a route is known). */
  readonly access: AccessConfig | undefined;
  /** Top-level pages merged with the host's (the host's win per status). */
  readonly errorPages: ErrorPagesConfig;
  readonly routes: readonly RouteConfig[];
}

export interface LogConfig {
  readonly level: string;
  readonly access: boolean;
}

export interface Config {
  /** The config path as the user gave it (used in `FILE:LINE:COL`). */
  readonly file: string;
  readonly listen: { readonly http: ListenAddress; readonly https: ListenAddress };
  readonly admin: ListenAddress | undefined;
  readonly tls: TlsConfig;
  readonly redis: RedisConfig | undefined;
  readonly trustedProxies: readonly string[];
  readonly log: LogConfig;
  /** Worker processes (SPEC §4 Workers); `auto` is resolved to the CPUs available. 1: one process. */
  readonly workers: number;
  readonly upstreams: ReadonlyMap<string, UpstreamConfig>;
  /** Top-level `errorPages` (used for unknown hosts; merged into each host's). */
  readonly errorPages: ErrorPagesConfig;
  readonly hosts: readonly HostConfig[];
}
