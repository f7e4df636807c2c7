import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type Server from 'http-proxy';
import { PorticoError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { ErrorPageTable } from '../pipeline/error-pages.js';
import type { HeaderPlan } from '../pipeline/header-plan.js';
import { BAD_GATEWAY } from '../pipeline/local-replies.js';
import { renderReplyOnSocket } from '../pipeline/render-reply.js';
import type { RequestContext } from '../pipeline/request-context.js';
import type { UpstreamPool } from '../upstreams/upstream-pool.js';
import { isConnectFailure } from './proxy-error-status.js';

const TUNNEL = Symbol('portico.tunnel');
type TrackedUpgrade = IncomingMessage & { [TUNNEL]?: { status: number; readonly socket: Duplex } };

/**
 * The engine's WebSocket (and other upgrade) proxying through its one http-proxy server. Every
 * upgrade it proxies reports the upstream's answer and closes both tunnel ends together.
 */
export class UpgradeTunnels {
  constructor(
    private readonly proxy: Server,
    private readonly log: Logger,
  ) {
    // An upgrade the upstream answers without 101 is logged with the upstream's status.
    proxy.on('proxyReqWs', (proxyReq: ClientRequest, req: IncomingMessage) => {
      const tunnel = (req as TrackedUpgrade)[TUNNEL];
      if (!tunnel) return;
      proxyReq.once('response', (upstreamRes: IncomingMessage) => {
        if (!upstreamRes.headers.upgrade) tunnel.status = upstreamRes.statusCode ?? 502;
      });
      // http-proxy pipes the two sockets, and a pipe ends its destination only on a clean end:
      // a client socket destroyed (reset, or cut at the end of a shutdown drain) left the
      // upstream socket open, holding the process alive. Each side's close closes the other.
      proxyReq.once('upgrade', (_res: IncomingMessage, upstream: Socket) => {
        const client = tunnel.socket;
        if (client.destroyed) upstream.destroy();
        else client.once('close', () => upstream.destroy());
        upstream.once('close', () => client.destroy());
      });
    });
  }

  /**
   * Proxies an upgrade to a target of `pool`; the socket is closed on failure. `onEnd` runs
   * once, when the tunnel closes, so the access line has its whole duration and bytes each way.
   */
  open(req: IncomingMessage, socket: Duplex, head: Buffer, ctx: RequestContext, pool: UpstreamPool, plan: HeaderPlan, pages: ErrorPageTable | undefined, onEnd: (status: number) => void): void {
    const target = pool.pick(ctx.clientIp);
    if (!target) {
      const err = new PorticoError('PORTICO_NO_HEALTHY_TARGET', `no available target in upstream ${pool.name}`);
      this.log.warn({ event: 'upstream_error', requestId: ctx.requestId, upstream: pool.name, code: err.code, status: 502 }, err.message);
      renderReplyOnSocket(socket, BAD_GATEWAY, plan, ctx.requestId, pages);
      onEnd(502);
      return;
    }
    ctx.targetLabel = target.url;
    target.inFlight++;
    const tunnel = { status: 101, socket };
    (req as TrackedUpgrade)[TUNNEL] = tunnel;
    let released = false;
    const release = (status: number) => {
      if (released) return;
      released = true;
      target.inFlight--;
      ctx.bytesIn = (socket as Socket).bytesRead;
      onEnd(status);
    };
    socket.once('close', () => release(tunnel.status));
    this.proxy.ws(req, socket as Socket, head, target.proxyOptions.ws, (err: Error) => {
      if (isConnectFailure(err)) target.recordFailure((err as NodeJS.ErrnoException).code ?? 'error');
      this.log.error({ event: 'upstream_error', requestId: ctx.requestId, target: target.url, code: (err as NodeJS.ErrnoException).code, status: 502 }, 'websocket proxy error');
      renderReplyOnSocket(socket, BAD_GATEWAY, plan, ctx.requestId, pages);
      release(502);
    });
  }
}
