/** The shared libraries a binary loads, as `ldd` lists them (run with an argv array, no shell). */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { SlipwayError, errorMessage } from '../../core/errors';

const run = promisify(execFile);

/**
 * Absolute library paths from `ldd` output, the dynamic loader included; the vDSO
 * (no file) is skipped. Throws when a library is "not found".
 */
export function parseLddOutput(output: string, binary: string): string[] {
  const libs = new Set<string>();
  const missing: string[] = [];
  for (const line of output.split('\n')) {
    const arrow = /^\s*(\S+)\s+=>\s+(\S+)/.exec(line);
    if (arrow) {
      if (arrow[2] === 'not') missing.push(arrow[1]!);
      else if (arrow[2]!.startsWith('/')) libs.add(arrow[2]!);
      continue;
    }
    const direct = /^\s*(\/\S+)\s+\(0x[0-9a-f]+\)/.exec(line);
    if (direct) libs.add(direct[1]!);
  }
  if (missing.length) {
    throw new SlipwayError('SLW_HOST_MISSING', `${binary} needs libraries this host does not have: ${missing.join(', ')}`);
  }
  return [...libs].sort();
}

export async function sharedLibraries(binary: string): Promise<string[]> {
  let stdout: string;
  try {
    ({ stdout } = await run('ldd', [binary], { maxBuffer: 1024 * 1024 }));
  } catch (err) {
    const out = `${(err as { stdout?: string }).stdout ?? ''}${(err as { stderr?: string }).stderr ?? ''}`;
    if (/not a dynamic executable|statically linked/.test(out)) return [];
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new SlipwayError('SLW_HOST_MISSING', 'ldd is not installed (it comes with the C library: apt-get install libc-bin)');
    }
    throw new SlipwayError('SLW_HOST_MISSING', `ldd ${binary} failed: ${errorMessage(err)}`);
  }
  return parseLddOutput(stdout, binary);
}
