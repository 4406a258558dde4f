/**
 * The HAProxy process: started detached in master-worker mode (it outlives the
 * control plane), reloaded seamlessly through the master socket, found again by its
 * pid file. Nothing in the platform's normal paths stops it (stopEdge is for tests
 * and uninstall).
 */
import { execFile, spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, readSync, renameSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { SlipwayError } from '../../core/errors';
import { edgeFiles, type EdgeFiles } from './edge-files';
import { sendCommand, sendToWorker } from './runtime-api';
import { parseShowProc, type ProcInfo } from './runtime-replies';

const run = promisify(execFile);
const NOT_INSTALLED = 'haproxy is not installed: on Debian/Ubuntu run scripts/bootstrap-host.sh or apt-get install haproxy';
const LOG_ROTATE_BYTES = 5 * 1024 * 1024;

export function readPid(files: EdgeFiles): number | null {
  let text: string;
  try {
    text = readFileSync(files.pid, 'utf8');
  } catch {
    return null; // none yet, or a starting HAProxy is replacing it
  }
  const pid = Number(text.trim().split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

/** Alive and not a zombie (a child we have not reaped yet still answers kill(pid, 0)). */
export function isAlive(pid: number | null): pid is number {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no procfs: trust kill(0)
  }
}

/** Whether `pid` is an HAProxy started on this data directory's config (guards against a recycled pid). */
export function isOurHaproxy(pid: number | null, files: EdgeFiles): pid is number {
  if (!isAlive(pid)) return false;
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.includes(files.config);
  } catch {
    return true; // no procfs: the pid file is all we have
  }
}

/** `haproxy -v` of the binary (the running master may be older after an upgrade: see showProc().version). */
export async function haproxyVersion(bin: string): Promise<string> {
  try {
    const { stdout } = await run(bin, ['-v']);
    return /version (\S+)/.exec(stdout)?.[1] ?? 'unknown';
  } catch (err) {
    throw hostMissingOr(err, 'could not run haproxy -v');
  }
}

/** `haproxy -c`: refuses to go on with a config HAProxy would reject, quoting its alerts. */
export async function checkConfig(bin: string, configFile: string): Promise<void> {
  try {
    await run(bin, ['-c', '-f', configFile]);
  } catch (err) {
    throw hostMissingOr(err, `HAProxy rejected the generated config ${configFile}`);
  }
}

/**
 * Starts the master (`-W`, master socket `-S`) in its own session with stdout/stderr
 * appended to haproxy.log, and does not wait for it: it outlives this process. Resolves
 * once `ready()` says so; rejects with HAProxy's alerts if the process exits first.
 */
export async function startDetached(bin: string, files: EdgeFiles, ready: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  rotateLog(files.log);
  const logStart = fileSize(files.log);
  const fd = openSync(files.log, 'a', 0o600);
  const state: { exited: string | null } = { exited: null };
  // HAProxy (re)creates its pid file 0644 from its umask, which it keeps across reloads (re-exec):
  // 077 while it is spawned keeps what it writes in the data directory private. spawn() forks
  // synchronously, so no other code of ours runs under the narrowed umask.
  const umask = process.umask(0o077);
  try {
    const child = spawn(bin, ['-W', '-S', `${files.masterSocket},mode,600`, '-p', files.pid, '-f', files.config], {
      detached: true,
      stdio: ['ignore', fd, fd],
      cwd: files.dir,
    });
    child.on('error', (err: NodeJS.ErrnoException) => (state.exited = err.code === 'ENOENT' ? 'ENOENT' : err.message));
    child.on('exit', (code, signal) => (state.exited = `exited with ${signal ?? `code ${code}`}`));
    child.unref();
  } finally {
    process.umask(umask);
    closeSync(fd);
  }
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (state.exited === 'ENOENT') throw new SlipwayError('SLW_HOST_MISSING', NOT_INSTALLED);
    if (state.exited) throw new SlipwayError('SLW_EDGE', `HAProxy did not start (${state.exited}): ${alerts(readFrom(files.log, logStart)) || `see ${files.log}`}`);
    if (await ready()) return;
    await sleep(50);
  }
  throw new SlipwayError('SLW_EDGE', `HAProxy started but did not answer on ${files.adminSocket} within ${timeoutMs / 1000} s (see ${files.log})`);
}

/** `show proc` on the master socket. */
export async function showProc(files: EdgeFiles, timeoutMs = 2000): Promise<ProcInfo> {
  const info = parseShowProc(await sendCommand(files.masterSocket, 'show proc', timeoutMs));
  if (!info.masterPid) throw new SlipwayError('SLW_EDGE', `unexpected "show proc" reply on ${files.masterSocket}`);
  return info;
}

/**
 * Seamless reload: `reload` on the master socket; the new worker takes over the
 * listening sockets, the old one finishes its requests. Resolves once the master
 * reports a new generation of workers and `ready()` holds; rejects with HAProxy's
 * alerts (from haproxy.log) if the master reports the reload as failed, in which
 * case the previous workers keep serving.
 */
export async function reload(files: EdgeFiles, ready: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const before = await showProc(files);
  const logStart = fileSize(files.log);
  await sendCommand(files.masterSocket, 'reload');
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    await sleep(50);
    let now: ProcInfo;
    try {
      now = await showProc(files, 1000);
    } catch {
      continue; // the master is re-executing itself; ask again
    }
    if (now.reloads <= before.reloads) continue;
    if (now.failedReloads > 0) {
      throw new SlipwayError('SLW_EDGE', `HAProxy refused the reload (the previous configuration keeps serving): ${alerts(readFrom(files.log, logStart)) || `see ${files.log}`}`);
    }
    if (now.workerPids.length === 0 || now.workerPids.some((p) => before.workerPids.includes(p))) continue;
    // Old workers must have stopped accepting (soft-stop) so that the next command reaches the new worker.
    if ((await oldWorkersStopping(files, now.oldWorkerPids)) && (await ready())) return;
  }
  throw new SlipwayError('SLW_EDGE', `HAProxy did not complete the reload within ${timeoutMs / 1000} s (see ${files.log})`);
}

/** Whether every old worker is soft-stopping (`Stopping: 1`: its listeners are closed) or gone. */
async function oldWorkersStopping(files: EdgeFiles, pids: number[]): Promise<boolean> {
  for (const pid of pids) {
    const info = await sendToWorker(files.masterSocket, pid, 'show info', 1000).catch(() => '');
    if (/^Stopping: 0/m.test(info)) return false;
  }
  return true;
}

/**
 * Stops the edge of a data directory (master and workers). Only for tests and
 * uninstall: the platform never stops the edge. Does nothing if it is not running.
 */
export async function stopEdge(dataDir: string): Promise<void> {
  const files = edgeFiles(dataDir);
  const pid = readPid(files);
  if (!isOurHaproxy(pid, files)) return;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && isAlive(pid); i++) await sleep(50);
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
}

/**
 * Kills what is left of a dead edge on this config: workers of a SIGKILLed master exit on
 * their own, but not necessarily before a new master binds the same ports (noreuseport).
 * Returns the pids killed. Needs procfs (Linux); elsewhere nothing is found.
 */
export async function killLeftovers(files: EdgeFiles, timeoutMs = 2000): Promise<number[]> {
  const pids = haproxyPidsOf(files);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  const started = Date.now();
  while (pids.some((p) => isAlive(p)) && Date.now() - started < timeoutMs) await sleep(10);
  return pids;
}

/** Live processes whose command line names this edge's config file (master, workers, old workers). */
export function haproxyPidsOf(files: EdgeFiles): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const argv = readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
      if (argv.includes(files.config) && /haproxy$/.test(argv[0] ?? '') && isAlive(Number(e))) out.push(Number(e));
    } catch {
      // exited while we looked
    }
  }
  return out;
}

function hostMissingOr(err: unknown, what: string): SlipwayError {
  const e = err as NodeJS.ErrnoException & { stderr?: string; stdout?: string };
  if (e.code === 'ENOENT') return new SlipwayError('SLW_HOST_MISSING', NOT_INSTALLED);
  return new SlipwayError('SLW_EDGE', `${what}: ${alerts(`${e.stderr ?? ''}\n${e.stdout ?? ''}`) || e.message}`);
}

/** HAProxy's ALERT lines, without their "[ALERT]    (pid) : " prefix. */
function alerts(text: string): string {
  return text
    .split('\n')
    .filter((l) => l.includes('[ALERT]'))
    .map((l) => l.replace(/^\[ALERT\]\s*(\(\d+\))?\s*:\s*/, '').trim())
    .join('; ');
}

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function readFrom(file: string, offset: number): string {
  try {
    const fd = openSync(file, 'r');
    try {
      const size = Math.min(fileSize(file) - offset, 64 * 1024);
      if (size <= 0) return '';
      const buf = Buffer.alloc(size);
      readSync(fd, buf, 0, size, offset);
      return buf.toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return '';
  }
}

/** Keeps one previous log; the running master keeps appending to the renamed file until its next start. */
function rotateLog(file: string): void {
  if (fileSize(file) > LOG_ROTATE_BYTES) renameSync(file, `${file}.1`);
}
