/** TcpProbe port over node:net: connect, then close at once; ok when the connection opened. */
import net from 'node:net';
import type { ProbeResult, TcpProbe } from '../../core/ports/probe';

export const tcpProbe: TcpProbe = (host, port, timeoutMs) =>
  new Promise<ProbeResult>((resolve) => {
    const started = Date.now();
    const socket = net.connect({ host, port });
    let settled = false;
    const done = (ok: boolean, error: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ok, status: null, error, durationMs: Date.now() - started });
    };
    const timer = setTimeout(() => done(false, `timed out after ${timeoutMs} ms`), timeoutMs);
    socket.once('connect', () => done(true, null));
    socket.once('error', (err) => done(false, (err as NodeJS.ErrnoException).code ?? err.message));
  });
