import type { IncomingMessage } from 'node:http';

/** Per-request facts computed once at the edge and read by steps, actions and the access log. */
export interface RequestContext {
  readonly req: IncomingMessage;
  /** Client address after the trustedProxies rule (SPEC §3 Client IP). */
  readonly clientIp: string;
  /** TCP peer address. */
  readonly peerIp: string;
  readonly requestId: string;
  /** Percent-decoded path with dot segments removed; used for matching only. */
  readonly matchPath: string;
  /** `https` or `http`: the scheme the client used to reach Portico. */
  readonly proto: 'http' | 'https';
  /** performance.now() when the request was received (ms; monotonic, and a double rather than a BigInt). */
  readonly startedAt: number;
  /**
   * Whether the request gets an access line: `log.access` of the table it is served under, so
   * a reload while it runs changes nothing for it.
   */
  readonly accessLog: boolean;
  /** Configured host name that matched, for logs and metric labels ("-" when none). */
  hostLabel: string;
  /** Route path that matched ("-" when none). */
  routeLabel: string;
  /** Upstream target URL the request went to, once chosen. */
  targetLabel: string | undefined;
  /** Told when the response closes, before the request is counted and logged (the proxy's exchange). */
  onResponseClose?: { responseClosed(): void };
  /** The matched route compresses responses (SPEC §4 Compression); set by the proxy action. */
  compress?: boolean;
  /** The status to log when the response is cut short by Portico (upstream failed mid-body), not by the client. */
  failedStatus?: number;
  /** Bytes received from the client through a WebSocket or other upgrade tunnel. */
  bytesIn?: number;
  /** Gives back the tokens earlier rate limits took, should a later one reject the request. */
  refundTokens: (() => void) | undefined;
  /** The request target as the client sent it, kept when stripPrefix/rewrite change `req.url`. */
  originalUrl?: string;
}
