/**
 * Watches the running edge so that its death is noticed in tens of milliseconds, not at the
 * next request that fails. Three signals, any of which triggers a liveness decision:
 * - a connection held open on the master socket (interactive `prompt` mode): the kernel
 *   closes it the moment the master dies;
 * - the master's pid checked every `pollMs` (kill(pid, 0) and not a zombie: a cheap syscall
 *   and one small procfs read);
 * - the workers `show proc` lists, their pids checked at the same pace.
 * The decision is only "down" when the master pid is gone, or when the master answers
 * `show proc` twice in a row with no live worker. A seamless reload re-executes the master
 * under the same pid and closes the socket connection: that is reconnected, not reported.
 * HAProxy 2.6's master exits when a worker dies (no `no-exit-on-failure`), so a SIGKILLed
 * worker shows as the master's death.
 */
import net from 'node:net';
import type { Logger } from 'pino';
import type { EdgeWatch } from '../../core/ports/edge';
import { errorMessage } from '../../core/errors';
import type { EdgeFiles } from './edge-files';
import { isAlive, isOurHaproxy, readPid, showProc } from './edge-process';

export interface EdgeWatchOptions {
  /** Master and worker pid checks (default 50 ms). */
  pollMs?: number;
  /** `show proc` refresh of the worker list (default 1 s). */
  procEveryMs?: number;
  logger: Logger;
}

export function watchEdge(files: EdgeFiles, onDown: (reason: string) => void, opts: EdgeWatchOptions): EdgeWatch {
  const pollMs = opts.pollMs ?? 50;
  const procEveryMs = opts.procEveryMs ?? 1000;
  const pid = readPid(files);
  let stopped = false;
  let socket: net.Socket | null = null;
  let workers: number[] = [];
  let emptyReplies = 0;
  let lastProc = 0;
  let asking = false;
  let reconnect: NodeJS.Timeout | undefined;

  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    clearTimeout(reconnect);
    socket?.destroy();
    socket = null;
  };
  const down = (reason: string): void => {
    if (stopped) return;
    stop();
    opts.logger.warn({ haproxyPid: pid, reason }, 'the edge is down');
    onDown(reason);
  };

  const refreshWorkers = (): void => {
    if (asking || stopped) return;
    asking = true;
    lastProc = Date.now();
    showProc(files, 1000)
      .then((info) => {
        workers = info.workerPids;
        // A master that answers but has no live worker serves nothing (only possible with no-exit-on-failure).
        emptyReplies = workers.some((p) => isAlive(p)) ? 0 : emptyReplies + 1;
        if (emptyReplies >= 2) down(`the master (pid ${pid}) has no live worker`);
      })
      .catch(() => undefined) // re-executing for a reload, or dying: the pid check decides
      .finally(() => (asking = false));
  };

  const check = (): void => {
    if (stopped) return;
    if (!isAlive(pid)) return down(`the master process (pid ${pid}) exited`);
    if (workers.length > 0 && !workers.some((p) => isAlive(p))) {
      // Every worker we knew is gone: a reload replaced them, or they died. Ask at once.
      workers = [];
      refreshWorkers();
    } else if (Date.now() - lastProc >= procEveryMs) refreshWorkers();
  };

  const connect = (): void => {
    if (stopped) return;
    const s = net.createConnection(files.masterSocket, () => s.write('prompt\n'));
    socket = s;
    s.on('data', () => undefined); // the prompt; nothing else is ever asked on it
    s.on('error', (err) => opts.logger.debug({ err: errorMessage(err) }, 'edge watch: master socket error'));
    s.on('close', () => {
      if (stopped || socket !== s) return;
      socket = null;
      check();
      // Still alive: a reload (re-exec) or the CLI's idle timeout. Connect again shortly.
      reconnect = setTimeout(connect, 100);
      reconnect.unref();
    });
    s.unref();
  };

  const timer = setInterval(check, pollMs);
  timer.unref();
  if (!isOurHaproxy(pid, files)) {
    queueMicrotask(() => down(pid ? `no HAProxy of this edge runs as pid ${pid}` : 'the edge is not running (no pid file)'));
  } else {
    connect();
    refreshWorkers();
  }
  return { stop };
}
