/**
 * The composition root: the only module, with its stages in control-plane/, that imports
 * drivers, the store, the engine and the API together. `slipway server` reads its settings
 * (control-plane/server-settings.ts: flags, then SLIPWAY_* variables, then defaults), and
 * startControlPlane builds the control plane in stages, in dependency order. Each stage returns
 * what it built and registers how to undo it: a start that fails halfway undoes what it built,
 * and close() undoes everything, last built first.
 */
import pino, { type Logger } from 'pino';
import { errorMessage } from './core/errors';
import { VERSION } from './core/version';
import { buildOrUndo, CleanupStack } from './control-plane/cleanup-stack';
import { resolveOptions, toOptions, type ControlPlane, type ControlPlaneOptions } from './control-plane/control-plane-options';
import { readSettings } from './control-plane/read-settings';
import { parseServerFlags } from './control-plane/server-flags';
import { startEngine } from './control-plane/stage-engine';
import { serveHttp } from './control-plane/stage-http';
import { startBackgroundLoops } from './control-plane/stage-loops';
import { startRuntimeAndEdge } from './control-plane/stage-runtime-edge';
import { openStore } from './control-plane/stage-store';

export { VERSION };
export type { ControlPlane, ControlPlaneOptions };
export { optionsFromEnv } from './control-plane/control-plane-options';

/** How long each cleanup may take when a start that failed is undone (the error waits for them). */
const UNDO_TIMEOUT_MS = 15_000;

export async function startControlPlane(opts: ControlPlaneOptions, logger: Logger = pino({ level: opts.logLevel })): Promise<ControlPlane> {
  const stack = new CleanupStack();
  return buildOrUndo(
    stack,
    async () => {
      const o = resolveOptions(opts); // 1. settings: what the caller left out takes its default
      const data = await openStore(o, logger, stack); // 2. store (and the metrics timing it)
      const host = await startRuntimeAndEdge(o, logger, stack, data); // 3. runtime, request-log ingestion, edge
      const core = await startEngine(o, logger, stack, data, host); // 4. engine, then the boot's recovery
      const loops = await startBackgroundLoops(o, logger, stack, core, host); // 5. background loops
      const http = await serveHttp(o, logger, stack, { data, host, core, loops }); // 6. HTTP API
      return {
        url: http.url,
        engine: core.engine,
        requestMetrics: http.requestMetrics,
        requestLogStats: () => (host.ingest && host.listener ? { ...host.ingest.stats(), connections: host.listener.stats.connections, unauthenticated: host.listener.stats.unauthenticated } : null),
        close: () => stack.close(),
      };
    },
    { timeoutMs: UNDO_TIMEOUT_MS, onCleanupFailure: (f) => logger.warn({ cleanup: f.name, err: errorMessage(f.error) }, 'undoing a failed start: a cleanup failed') },
  );
}

/** `slipway server`: runs until SIGTERM/SIGINT, waiting briefly for running deployments. */
export async function runServerCommand(argv: string[]): Promise<void> {
  const flags = parseServerFlags(argv);
  const read = readSettings({ env: process.env, flags });
  if (!read.ok) {
    for (const problem of read.problems) process.stderr.write(`slipway server: ${problem}\n`);
    process.exit(1);
  }
  const opts = toOptions(read.settings);
  const logger = pino({ level: opts.logLevel });
  let cp: ControlPlane;
  try {
    cp = await startControlPlane(opts, logger);
  } catch (err) {
    logger.fatal({ code: (err as { code?: string }).code }, errorMessage(err));
    process.stderr.write(`slipway server: ${errorMessage(err)}\n`);
    process.exit(1);
  }
  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'stopping the control plane (the edge keeps serving)');
    await Promise.race([cp.engine.idle(), new Promise((r) => setTimeout(r, 30_000))]);
    await cp.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}
