import { connect, type Socket } from 'node:net';

/** What a raw exchange saw: every byte received, and whether the server closed the socket. */
export interface RawExchange {
  readonly data: string;
  /** The server ended or reset the connection before `within` ran out. */
  readonly closed: boolean;
  /** The status of the first response, or 0 when none arrived. */
  readonly status: number;
}

export interface RawExchangeOptions {
  /** How long to wait for the server to close the connection (default 5 s). */
  readonly within?: number;
  /** Stop as soon as the first response's head has arrived, for a connection the server keeps
   * open (keep-alive, an upgrade): `closed` is then false. */
  readonly untilHead?: boolean;
  /** The loopback address to connect from (e.g. 127.0.0.2, to be another client). */
  readonly localAddress?: string;
}

/**
 * Writes raw bytes to 127.0.0.1:port (for inputs Node's client refuses to send) and collects
 * what comes back until the server closes the connection or `within` ms pass.
 */
export function rawExchange(port: number, bytes: string | Buffer | (string | Buffer)[], opts: RawExchangeOptions = {}): Promise<RawExchange> {
  return new Promise((resolve) => {
    const socket: Socket = connect({ port, host: '127.0.0.1', localAddress: opts.localAddress });
    let data = '';
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(data);
      resolve({ data, closed, status: m ? Number(m[1]) : 0 });
    };
    const timer = setTimeout(() => finish(false), opts.within ?? 5000);
    socket.on('data', (c: Buffer) => {
      data += c.toString('latin1');
      if (opts.untilHead && data.includes('\r\n\r\n')) finish(false);
    });
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.on('connect', () => {
      for (const chunk of Array.isArray(bytes) ? bytes : [bytes]) socket.write(chunk);
    });
  });
}

/** The body of a raw HTTP/1.1 response with Content-Length framing. */
export function rawBody(data: string): string {
  return data.slice(data.indexOf('\r\n\r\n') + 4);
}
