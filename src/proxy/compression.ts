import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { constants, createBrotliCompress, createGzip, type BrotliOptions, type ZlibOptions } from 'node:zlib';

/** A content coding Portico produces. */
export type Coding = 'br' | 'gzip';

/** Below this, compression saves less than the headers and the CPU it costs (nginx gzip_min_length). */
const MIN_LENGTH = 1024;

/**
 * Levels for a proxy's budget, measured on a 20 KB JSON body (docs/performance.md): gzip 5 costs
 * about 150 µs and keeps 97% of level 9's saving for 40% of its CPU; brotli quality 4 costs the
 * same and is a third smaller than gzip, where quality 11 costs over 30 ms. Brotli's window is
 * 256 KiB (lgwin 18) rather than 4 MiB, so many concurrent streams stay small in memory.
 * Every write is a sync flush: what the upstream has sent reaches the client at once (SSE-like
 * streams, long polls), at the price of a few bytes per upstream chunk.
 */
const GZIP_OPTIONS: ZlibOptions = Object.freeze({ level: 5, flush: constants.Z_SYNC_FLUSH });
const BROTLI_PARAMS = { [constants.BROTLI_PARAM_QUALITY]: 4, [constants.BROTLI_PARAM_LGWIN]: 18 };

let openStreams = 0;

/** Compression streams not yet released; a gauge, and the proof that aborts leak nothing. */
export function openCompressionStreams(): number {
  return openStreams;
}

/**
 * Decides whether a proxied response is compressed (SPEC §4 Compression) and, if so, rewrites
 * its head for the coded body: Content-Encoding set, Content-Length and Accept-Ranges dropped
 * (ranges would address the coded bytes), a strong ETag made weak. Vary: Accept-Encoding is
 * added to every eligible response, also when this client gets it uncompressed, so a shared
 * cache never hands one client's coding to another. `head` is the list or object about to be
 * passed to writeHead (HTTP/1.1 and HTTP/2 respectively).
 */
export function prepareCompression(req: IncomingMessage, status: number, head: string[] | OutgoingHttpHeaders): Coding | undefined {
  if (status === 204 || status === 206 || status === 304 || status < 200) return undefined;
  const list = Array.isArray(head);
  const get = list ? (name: string) => listValue(head, name) : (name: string) => objectValue(head, name);
  const encoding = get('content-encoding');
  if (encoding !== undefined && encoding !== '' && encoding.toLowerCase() !== 'identity') return undefined;
  if (/(?:^|[\s,])no-transform(?:$|[\s,;])/i.test(get('cache-control') ?? '')) return undefined;
  if (!isCompressibleType(get('content-type'))) return undefined;
  const length = get('content-length');
  if (length !== undefined && Number(length) < MIN_LENGTH) return undefined;

  const vary = get('vary');
  const coding = negotiate(req.headers['accept-encoding']);
  if (list) rewriteList(head, coding, vary);
  else rewriteObject(head, coding, vary);
  return coding;
}

/**
 * Compresses the upstream body into `res` as it streams. The zlib stream is released when the
 * response closes for any reason: a client that goes away mid-stream must not leave a native
 * compressor (up to a few hundred KiB each) behind.
 */
export function pipeCompressed(proxyRes: IncomingMessage, res: ServerResponse, coding: Coding): void {
  const length = Number(proxyRes.headers['content-length']);
  const options: BrotliOptions = {
    flush: constants.BROTLI_OPERATION_FLUSH,
    // A known size lets brotli size its buffers to the body instead of the window.
    params: length > 0 ? { ...BROTLI_PARAMS, [constants.BROTLI_PARAM_SIZE_HINT]: length } : BROTLI_PARAMS,
  };
  const zip = coding === 'br' ? createBrotliCompress(options) : createGzip(GZIP_OPTIONS);
  openStreams++;
  zip.once('close', () => openStreams--);
  zip.on('error', () => res.destroy());
  res.once('close', () => zip.destroy());
  proxyRes.pipe(zip).pipe(res);
}

const TYPES = new Set(['application/json', 'application/javascript', 'application/xml', 'image/svg+xml', 'application/wasm']);

/** text/* but SSE (compression would hold events back), and the structured types of SPEC §4. */
function isCompressibleType(value: string | undefined): boolean {
  if (value === undefined) return false;
  const semi = value.indexOf(';');
  const type = (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase();
  if (type.startsWith('text/')) return type !== 'text/event-stream';
  if (TYPES.has(type)) return true;
  return type.startsWith('application/') && (type.endsWith('+json') || type.endsWith('+xml'));
}

const negotiated = new Map<string, Coding | undefined>();
const NEGOTIATED_LIMIT = 256;

/**
 * The coding to use for an Accept-Encoding value (RFC 9110 §12.5.3): the highest q among br and
 * gzip, `*` standing for codings not named, q=0 refusing; br on a tie. Clients send a handful
 * of distinct values, so answers are memoised (and the memo dropped when a spray fills it).
 */
export function negotiate(header: string | string[] | undefined): Coding | undefined {
  if (typeof header !== 'string' || header === '') return undefined;
  let coding = negotiated.get(header);
  if (coding === undefined && !negotiated.has(header)) {
    coding = parseAcceptEncoding(header);
    if (negotiated.size >= NEGOTIATED_LIMIT) negotiated.clear();
    negotiated.set(header, coding);
  }
  return coding;
}

function parseAcceptEncoding(header: string): Coding | undefined {
  let br: number | undefined;
  let gzip: number | undefined;
  let any: number | undefined;
  for (const part of header.split(',')) {
    const [name = '', ...params] = part.split(';');
    let q = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(p);
      if (m) q = Math.min(1, Number(m[1]) || 0);
    }
    const coding = name.trim().toLowerCase();
    if (coding === 'br') br = q;
    else if (coding === 'gzip' || coding === 'x-gzip') gzip = Math.max(gzip ?? 0, q);
    else if (coding === '*') any = q;
  }
  const qBr = br ?? any ?? 0;
  const qGzip = gzip ?? any ?? 0;
  if (qBr <= 0 && qGzip <= 0) return undefined;
  return qBr >= qGzip ? 'br' : 'gzip';
}

/** Joined values of a field in a flat [name, value, …] list (repeated lines joined by ", "). */
function listValue(list: readonly string[], name: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < list.length; i += 2) {
    if (list[i]!.toLowerCase() === name) value = value === undefined ? list[i + 1]! : `${value}, ${list[i + 1]!}`;
  }
  return value;
}

function objectValue(headers: OutgoingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(', ') : String(v);
}

function varyValue(vary: string | undefined): string | undefined {
  if (vary === undefined || vary.trim() === '') return 'Accept-Encoding';
  if (/(?:^|,)\s*(?:\*|accept-encoding)\s*(?:,|$)/i.test(vary)) return undefined; // already there
  return `${vary}, Accept-Encoding`;
}

function weakEtag(etag: string): string {
  return etag.startsWith('W/') ? etag : `W/${etag}`;
}

function rewriteList(list: string[], coding: Coding | undefined, vary: string | undefined): void {
  const newVary = varyValue(vary);
  for (let i = list.length - 2; i >= 0; i -= 2) {
    const lower = list[i]!.toLowerCase();
    if (newVary !== undefined && lower === 'vary') list.splice(i, 2);
    else if (coding !== undefined) {
      if (lower === 'content-length' || lower === 'accept-ranges' || lower === 'content-encoding') list.splice(i, 2);
      else if (lower === 'etag') list[i + 1] = weakEtag(list[i + 1]!);
    }
  }
  if (newVary !== undefined) list.push('Vary', newVary);
  if (coding !== undefined) list.push('Content-Encoding', coding);
}

function rewriteObject(headers: OutgoingHttpHeaders, coding: Coding | undefined, vary: string | undefined): void {
  const newVary = varyValue(vary);
  if (newVary !== undefined) headers.vary = newVary;
  if (coding === undefined) return;
  delete headers['content-length'];
  delete headers['accept-ranges'];
  const etag = headers.etag;
  if (typeof etag === 'string') headers.etag = weakEtag(etag);
  headers['content-encoding'] = coding;
}
