/**
 * Stops and starts the Docker engine the way scripts/bootstrap-host.sh runs it: `dockerd`
 * in the background (setsid), its pid in /var/run/docker.pid. Starting is running that
 * script, so the engine comes back exactly as a fresh host would have it. For tests that
 * take the engine away; they must start it again in a `finally`.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';

const run = promisify(execFile);
const PID_FILE = '/var/run/docker.pid';
const BOOTSTRAP = path.resolve(import.meta.dirname, '../../scripts/bootstrap-host.sh');

export interface EngineFacts {
  liveRestore: boolean;
  version: string;
}

/** What the engine says about itself, or null when it does not answer. */
export async function engineFacts(): Promise<EngineFacts | null> {
  try {
    const info = (await new Docker().info()) as { LiveRestoreEnabled?: boolean; ServerVersion?: string };
    return { liveRestore: info.LiveRestoreEnabled === true, version: info.ServerVersion ?? '?' };
  } catch {
    return null;
  }
}

/** Why this host's engine cannot be stopped and started by a test, or null when it can. */
export function cannotRestartEngine(): string | null {
  if (process.getuid?.() !== 0) return 'stopping dockerd needs root';
  if (!existsSync(PID_FILE)) return `${PID_FILE} is missing: dockerd was not started by scripts/bootstrap-host.sh`;
  const pid = Number(readFileSync(PID_FILE, 'utf8').trim());
  try {
    const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    if (comm !== 'dockerd') return `pid ${pid} in ${PID_FILE} is ${comm}, not dockerd`;
    // Under an init system, killing dockerd would only make it restart it behind our back.
    if (Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]) === 1 && existsSync('/run/systemd/system')) {
      return 'dockerd is managed by systemd here; stop it with systemctl instead';
    }
  } catch {
    return `dockerd (pid ${pid}) is not running`;
  }
  return null;
}

/** SIGTERM to dockerd, then wait until it has exited (with live-restore its containers keep running). */
export async function stopDockerEngine(timeoutMs = 60_000): Promise<void> {
  const pid = Number(readFileSync(PID_FILE, 'utf8').trim());
  process.kill(pid, 'SIGTERM');
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`dockerd (pid ${pid}) did not exit within ${timeoutMs / 1000} s of SIGTERM`);
}

/**
 * Freezes dockerd (SIGSTOP) while `during` runs, then thaws it (SIGCONT), whatever happens:
 * a hung engine, which accepts connections on its socket and never answers.
 */
export async function withDockerEngineFrozen<T>(during: () => Promise<T>): Promise<T> {
  const pid = Number(readFileSync(PID_FILE, 'utf8').trim());
  process.kill(pid, 'SIGSTOP');
  try {
    return await during();
  } finally {
    process.kill(pid, 'SIGCONT');
  }
}

/** Runs scripts/bootstrap-host.sh, which starts dockerd when nothing answers and waits until it does. */
export async function startDockerEngine(): Promise<void> {
  await run('bash', [BOOTSTRAP], { env: { ...process.env, SLIPWAY_BOOTSTRAP_BENCH: '0' }, timeout: 120_000 });
  if (!(await engineFacts())) throw new Error('dockerd did not answer after scripts/bootstrap-host.sh');
}
