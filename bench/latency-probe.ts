/**
 * Open-loop latency probe: sends GET requests at a fixed rate over N keep-alive connections
 * and prints {"p50us","p99us","sent","done","late"} as JSON. Unlike wrk's closed loop, where at
 * saturation p50 is about connections × service time, the offered rate here stays below what
 * the peer can serve, so the figures are the latency of one request through it.
 *
 * Usage: node latency-probe.js PORT HOST CONNECTIONS RATE SECONDS
 * Raw sockets and a minimal Content-Length parser keep the probe's own overhead small and the
 * same for every peer.
 */
import { connect, type Socket } from 'node:net';

const [port, host, conns, rate, seconds] = process.argv.slice(2);
const CONNS = Number(conns ?? 4);
const RATE = Number(rate ?? 1000);
const DURATION_MS = Number(seconds ?? 3) * 1000;
const request = Buffer.from(`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`);

interface Conn {
  readonly socket: Socket;
  sentAt: number;
  buffered: Buffer;
}

const latencies: number[] = [];
const idle: Conn[] = [];
let sent = 0;
let late = 0; // ticks when every connection was still busy: the rate was too high for the peer

function onData(c: Conn, chunk: Buffer): void {
  c.buffered = c.buffered.length ? Buffer.concat([c.buffered, chunk]) : chunk;
  const end = c.buffered.indexOf('\r\n\r\n');
  if (end < 0) return;
  const head = c.buffered.subarray(0, end).toString('latin1');
  const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
  if (c.buffered.length < end + 4 + length) return;
  latencies.push(performance.now() - c.sentAt);
  c.buffered = c.buffered.subarray(end + 4 + length);
  idle.push(c);
}

async function open(): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => {
      socket.setNoDelay(true);
      resolve(c);
    });
    const c: Conn = { socket, sentAt: 0, buffered: Buffer.alloc(0) };
    socket.on('data', (d: Buffer) => onData(c, d));
    socket.on('error', reject);
  });
}

async function main(): Promise<void> {
  for (let i = 0; i < CONNS; i++) idle.push(await open());
  const started = performance.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = performance.now() - started;
      if (elapsed >= DURATION_MS) {
        clearInterval(timer);
        resolve();
        return;
      }
      const due = Math.floor((elapsed / 1000) * RATE);
      while (sent < due) {
        const c = idle.pop();
        if (!c) {
          late += due - sent;
          sent = due;
          break;
        }
        c.sentAt = performance.now();
        c.socket.write(request);
        sent++;
      }
    }, 1);
  });
  await new Promise((r) => setTimeout(r, 200)); // let the last responses arrive
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]! * 1000 : NaN);
  process.stdout.write(`${JSON.stringify({ p50us: pct(0.5), p99us: pct(0.99), sent, done: latencies.length, late })}\n`);
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
