/**
 * The limits and timeouts of the public listeners (SPEC §3 "Connections", "Shutdown", "Bad
 * input never crashes the process"). docs/operations.md "Hardening" lists them; keep both in
 * step.
 */
export const CONNECTION_LIMITS = Object.freeze({
  /** Request headers must be complete within this of the accept or the previous response (then 408). */
  headersTimeoutMs: 30_000,
  /**
   * How often Node looks for connections past `headersTimeoutMs`/`requestTimeoutMs`. Node's
   * default, 30 s, lets a slowloris connection live up to 60 s; 1 s keeps the 408 within 31 s.
   */
  connectionsCheckingIntervalMs: 1_000,
  /** An idle keep-alive HTTP/1.1 connection is closed after this. */
  keepAliveTimeoutMs: 60_000,
  /** A whole request (headers and body) must arrive within this; slow uploads beyond it get 408. */
  requestTimeoutMs: 300_000,
  /** A TLS handshake must complete within this of the accept (raw TCP with no bytes included). */
  tlsHandshakeTimeoutMs: 10_000,
  /** An HTTP/2 connection must send its preface (magic and SETTINGS) within this of the handshake. */
  http2PrefaceTimeoutMs: 10_000,
  /** An HTTP/2 connection with no open stream for this long is closed. */
  http2IdleTimeoutMs: 60_000,
  /** Concurrent streams per HTTP/2 connection (SETTINGS_MAX_CONCURRENT_STREAMS). */
  http2MaxConcurrentStreams: 128,
  /** Header fields per request, HTTP/1 and HTTP/2 alike (pseudo-headers not counted); more → 431. */
  maxHeaderFields: 100,
  /** Bytes of header names and values per request (plus `: ` and CRLF per field); more → 431. */
  maxHeaderBytes: 16_384,
});

/**
 * What Node's HTTP/1 parser keeps of a request's header fields. Above `maxHeaderFields`, so a
 * request with too many fields is always seen to have too many (Node drops the rest silently,
 * in blocks); bounded, so a request of thousands of tiny fields costs little before its 431.
 */
export const HTTP1_PARSER_MAX_HEADERS = 128;

/**
 * HTTP/2 header entries nghttp2 accepts per request before it resets the stream: the field
 * limit plus the four request pseudo-headers (:method, :scheme, :authority, :path).
 */
export const HTTP2_MAX_HEADER_PAIRS = CONNECTION_LIMITS.maxHeaderFields + 4;

/**
 * SETTINGS_MAX_HEADER_LIST_SIZE: RFC 9113 counts each field as name + value + 32 bytes, so the
 * byte limit plus that overhead for every allowed entry. The exact byte rule is applied to the
 * decoded request like HTTP/1's; this is the hard stop before any of it is buffered.
 */
export const HTTP2_MAX_HEADER_LIST_SIZE = CONNECTION_LIMITS.maxHeaderBytes + 32 * HTTP2_MAX_HEADER_PAIRS;
