/** Runs the CLI as users do (bin/slipway.mjs in a child process) against a test control plane. */
import { execFile } from 'node:child_process';
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

/** A `slipway` runner bound to a control plane and a working directory (where slipway.yml is). */
export function cliFor(cp: ControlPlaneProcess, cwd: string): (...args: string[]) => Promise<CliResult> {
  return async (...args) => {
    try {
      const r = await execFileP(process.execPath, [BIN, ...args], {
        cwd,
        env: { ...process.env, SLIPWAY_URL: `http://127.0.0.1:${cp.apiPort}`, SLIPWAY_TOKEN: cp.token },
        maxBuffer: 16 * 1024 * 1024,
      });
      return { code: 0, ...r };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };
}
