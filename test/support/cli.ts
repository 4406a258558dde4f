/** Runs the CLI as users do (bin/slipway.mjs in a child process) against a test control plane. */
import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ControlPlaneProcess } from './control-plane-process';

const execFileP = promisify(execFile);
const BIN = path.resolve(import.meta.dirname, '../../bin/slipway.mjs');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A `slipway` runner bound to a control plane and a working directory (where slipway.yml is); the admin token unless `token` is given. */
export function cliFor(cp: ControlPlaneProcess, cwd: string, token = cp.token): (...args: string[]) => Promise<CliResult> {
  return async (...args) => {
    try {
      const r = await execFileP(process.execPath, [BIN, ...args], {
        cwd,
        env: { ...process.env, SLIPWAY_URL: `http://127.0.0.1:${cp.apiPort}`, SLIPWAY_TOKEN: token },
        maxBuffer: 16 * 1024 * 1024,
      });
      return { code: 0, ...r };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };
}

export interface RunningCli {
  /** Everything it printed so far. */
  stdout(): string;
  stderr(): string;
  /** Ctrl-C (SIGINT), as a user ends `logs -f`; resolves with the exit code (or the signal). */
  stop(): Promise<number | string | null>;
  /** Resolves with the exit code (or the signal) when it ends by itself. */
  exited: Promise<number | string | null>;
}

/** Starts a command that runs until stopped (`slipway logs -f`), collecting its output. */
export function startCli(cp: ControlPlaneProcess, cwd: string, args: string[], token = cp.token, extraEnv: NodeJS.ProcessEnv = {}): RunningCli {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd,
    env: { ...process.env, SLIPWAY_URL: `http://127.0.0.1:${cp.apiPort}`, SLIPWAY_TOKEN: token, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
  const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  return {
    stdout: () => out,
    stderr: () => err,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      return exited;
    },
  };
}
