/** Probe port over node:http: one GET without keep-alive; 2xx and 3xx count as healthy. */
import http from 'node:http';
import type { HttpProbe, ProbeResult } from '../../core/ports/probe';

export const httpProbe: HttpProbe = (url, timeoutMs) =>
  new Promise<ProbeResult>((resolve) => {
    const started = Date.now();
    const done = (r: Omit<ProbeResult, 'durationMs'>) => resolve({ ...r, durationMs: Date.now() - started });
    const req = http.get(url, { agent: false, timeout: timeoutMs, headers: { 'user-agent': 'slipway-probe', connection: 'close' } }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      res.on('end', () => done({ ok: status >= 200 && status < 400, status, error: null }));
      res.on('error', (err) => done({ ok: false, status, error: err.message }));
    });
    req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on('error', (err) => done({ ok: false, status: null, error: (err as NodeJS.ErrnoException).code ?? err.message }));
  });
