/** Paths of the edge's files in its data directory, and the persisted backend list. */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { EdgeBackendSpec } from '../../core/ports/edge';

export interface EdgeFiles {
  dir: string;
  config: string;
  map: string;
  backends: string;
  adminSocket: string;
  masterSocket: string;
  pid: string;
  log: string;
}

export function edgeFiles(dir: string): EdgeFiles {
  return {
    dir,
    config: path.join(dir, 'haproxy.cfg'),
    map: path.join(dir, 'hosts.map'),
    backends: path.join(dir, 'backends.json'),
    adminSocket: path.join(dir, 'admin.sock'),
    masterSocket: path.join(dir, 'master.sock'),
    pid: path.join(dir, 'haproxy.pid'),
    log: path.join(dir, 'haproxy.log'),
  };
}

export function readBackends(files: EdgeFiles): EdgeBackendSpec[] {
  if (!existsSync(files.backends)) return [];
  return JSON.parse(readFileSync(files.backends, 'utf8')) as EdgeBackendSpec[];
}

/** Write-then-rename so a crash never leaves a half-written file. */
export function writeAtomic(file: string, content: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, content);
  renameSync(tmp, file);
}
