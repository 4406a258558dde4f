/** Probe port: one HTTP readiness probe against a replica's address. */
export interface ProbeResult {
  ok: boolean;
  status: number | null;
  error: string | null;
  durationMs: number;
}

export type HttpProbe = (url: string, timeoutMs: number) => Promise<ProbeResult>;

/** One TCP connect to host:port (tcp readiness of accessories and `health.kind: tcp` services); ok once the connection opens. */
export type TcpProbe = (host: string, port: number, timeoutMs: number) => Promise<ProbeResult>;
