/** Probe port: one HTTP readiness probe against a replica's address. */
export interface ProbeResult {
  ok: boolean;
  status: number | null;
  error: string | null;
  durationMs: number;
}

export type HttpProbe = (url: string, timeoutMs: number) => Promise<ProbeResult>;
