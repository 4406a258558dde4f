/**
 * The HAProxy process: started detached in master-worker mode (it outlives the
 * control plane), reloaded seamlessly through the master socket, found again by
 * its pid file. Nothing in the platform's normal paths stops it.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { SlipwayError } from '../../core/errors';
import type { EdgeFiles } from './edge-files';
import { sendCommand } from './runtime-api';

const run = promisify(execFile);

export function readPid(files: EdgeFiles): number | null {
  if (!existsSync(files.pid)) return null;
  const pid = Number(readFileSync(files.pid, 'utf8').trim().split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

export function isAlive(pid: number | null): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function haproxyVersion(bin: string): Promise<string> {
  try {
    const { stdout } = await run(bin, ['-v']);
    return /version (\S+)/.exec(stdout)?.[1] ?? 'unknown';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new SlipwayError('SLW_HOST_MISSING', 'haproxy is not installed: on Debian/Ubuntu run scripts/bootstrap-host.sh or apt-get install haproxy');
    }
    throw err;
  }
}

/** `haproxy -c`: refuses to go on with a config HAProxy would reject, quoting its alert. */
export async function checkConfig(bin: string, configFile: string): Promise<void> {
  try {
    await run(bin, ['-c', '-q', '-f', configFile]);
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    const alert = `${e.stderr ?? ''}${e.stdout ?? ''}`.split('\n').find((l) => l.includes('ALERT')) ?? e.message;
    throw new SlipwayError('SLW_EDGE', `HAProxy rejected the generated config: ${alert.trim()}`);
  }
}

export async function startDetached(bin: string, files: EdgeFiles): Promise<void> {
  try {
    // -D: daemonize (new session, reparented to init) so the edge does not die with us.
    await run(bin, ['-W', '-D', '-S', `${files.masterSocket},mode,600`, '-p', files.pid, '-f', files.config]);
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    const alert = (e.stderr ?? '').split('\n').filter((l) => l.includes('ALERT')).join('; ') || e.message;
    throw new SlipwayError('SLW_EDGE', `HAProxy did not start: ${alert.trim()}`);
  }
}

export interface ProcInfo {
  masterPid: number;
  workerPids: number[];
  reloads: number;
}

/** `show proc` on the master socket. */
export async function showProc(files: EdgeFiles): Promise<ProcInfo> {
  const text = await sendCommand(files.masterSocket, 'show proc');
  let masterPid = 0;
  let reloads = 0;
  const workerPids: number[] = [];
  let section = 'master';
  for (const line of text.split('\n')) {
    if (line.startsWith('# workers')) section = 'workers';
    else if (line.startsWith('# old workers') || line.startsWith('# programs')) section = 'other';
    const m = /^(\d+)\s+(\w+)\s+(\d+)/.exec(line);
    if (!m) continue;
    if (m[2] === 'master') {
      masterPid = Number(m[1]);
      reloads = Number(m[3]);
    } else if (m[2] === 'worker' && section === 'workers') workerPids.push(Number(m[1]));
  }
  return { masterPid, workerPids, reloads };
}

/** Seamless reload: the new worker takes over the listening sockets; the old one finishes its requests. */
export async function reload(files: EdgeFiles): Promise<void> {
  const before = await showProc(files);
  await sendCommand(files.masterSocket, 'reload');
  const started = Date.now();
  while (Date.now() - started < 15_000) {
    await new Promise((r) => setTimeout(r, 50));
    try {
      const now = await showProc(files);
      if (now.reloads > before.reloads && now.workerPids.length > 0 && !now.workerPids.some((p) => before.workerPids.includes(p))) {
        await sendCommand(files.adminSocket, 'show info', 1000);
        return;
      }
    } catch {
      // the master is busy forking; ask again
    }
  }
  throw new SlipwayError('SLW_EDGE', 'HAProxy did not complete the reload within 15 s (see the edge log)');
}
