import { Http2ServerResponse } from 'node:http2';

/**
 * The HTTP/2 compatibility response, counting the body bytes it is given. An HTTP/1.1
 * response's size is read off its connection (request-handler.ts), but HTTP/2 streams share
 * one connection and Node keeps no count per stream, so without this every HTTP/2 access line
 * would say `bytes: 0`. `end(chunk)` writes through `write`, so one override sees every byte.
 */
export class CountingHttp2Response extends Http2ServerResponse {
  bodyBytes = 0;

  override write(chunk: string | Uint8Array, encoding?: BufferEncoding | ((err: Error) => void), callback?: (err: Error) => void): boolean {
    // A HEAD response carries no body, whatever the handler writes (Node drops it).
    if (this.req.method !== 'HEAD') {
      this.bodyBytes += typeof chunk === 'string' ? Buffer.byteLength(chunk, typeof encoding === 'string' ? encoding : 'utf8') : chunk.byteLength;
    }
    return super.write(chunk, encoding as BufferEncoding, callback);
  }
}
