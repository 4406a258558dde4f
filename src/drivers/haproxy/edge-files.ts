/** Paths of the edge's files in its data directory, and the persisted backend list. */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SlipwayError } from '../../core/errors';
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
  /** TLS: the default certificate, the crt-list HAProxy loads, one PEM per installed certificate, and their hosts. */
  defaultCert: string;
  crtList: string;
  certsDir: string;
  certificates: string;
  redirectMap: string;
  hstsMap: string;
  /** backend → service name, for the backends of stopped services (their 503 page). */
  stoppedMap: string;
}

/** A unix socket path must fit in sockaddr_un.sun_path (108 bytes with the NUL). */
const MAX_SOCKET_PATH = 107;

export function edgeFiles(dataDir: string): EdgeFiles {
  const dir = path.resolve(dataDir);
  return {
    dir,
    config: path.join(dir, 'haproxy.cfg'),
    map: path.join(dir, 'hosts.map'),
    backends: path.join(dir, 'backends.json'),
    adminSocket: path.join(dir, 'admin.sock'),
    masterSocket: path.join(dir, 'master.sock'),
    pid: path.join(dir, 'haproxy.pid'),
    log: path.join(dir, 'haproxy.log'),
    defaultCert: path.join(dir, 'tls', 'default.pem'),
    crtList: path.join(dir, 'tls', 'crt-list.txt'),
    certsDir: path.join(dir, 'tls', 'certs'),
    certificates: path.join(dir, 'tls', 'certificates.json'),
    redirectMap: path.join(dir, 'redirect.map'),
    hstsMap: path.join(dir, 'hsts.map'),
    stoppedMap: path.join(dir, 'stopped.map'),
  };
}

/** The paths end up unquoted in haproxy.cfg, on the HAProxy command line and in CLI commands. */
export function assertUsableDir(files: EdgeFiles): void {
  if (!/^[A-Za-z0-9._/+@=-]+$/.test(files.dir)) {
    throw new SlipwayError('SLW_EDGE', `edge data directory "${files.dir}" must contain only letters, digits and . _ / + @ = - (it is written unquoted into haproxy.cfg)`);
  }
  if (Buffer.byteLength(files.masterSocket) > MAX_SOCKET_PATH) {
    throw new SlipwayError('SLW_EDGE', `edge data directory "${files.dir}" is too long for a unix socket path (${MAX_SOCKET_PATH} bytes at most for ${files.masterSocket})`);
  }
}

export function readBackends(files: EdgeFiles): EdgeBackendSpec[] {
  if (!existsSync(files.backends)) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(files.backends, 'utf8'));
  } catch (err) {
    throw new SlipwayError('SLW_EDGE', `${files.backends} is not valid JSON (${(err as Error).message}); fix or delete it`);
  }
  const valid =
    Array.isArray(parsed) &&
    parsed.every((b: unknown) => {
      const r = b as Partial<EdgeBackendSpec> | null;
      const httpsOk = r?.https === undefined || ((typeof r.https?.redirect === 'boolean' || r.https?.redirect === null) && (r.https.hsts === null || typeof r.https.hsts === 'string'));
      return typeof r?.name === 'string' && Array.isArray(r.hosts) && r.hosts.every((h) => typeof h === 'string') && httpsOk;
    });
  if (!valid) throw new SlipwayError('SLW_EDGE', `${files.backends} is not a list of {name, hosts}; fix or delete it`);
  return (parsed as EdgeBackendSpec[]).map((b) => ({
    name: b.name,
    hosts: [...b.hosts],
    ...(b.https ? { https: { redirect: b.https.redirect, hsts: b.https.hsts } } : {}),
    // Checked again when rendered (assertHealthCheck): a hand-edited file cannot inject config lines.
    ...(b.check && typeof b.check === 'object' ? { check: { ...b.check } } : {}),
    // Checked again before it reaches the map (assertStoppedService): a hand-edited file cannot inject a command.
    ...(b.stopped && typeof b.stopped === 'object' && typeof b.stopped.service === 'string' ? { stopped: { service: b.stopped.service } } : {}),
  }));
}

export function writeBackends(files: EdgeFiles, backends: EdgeBackendSpec[]): void {
  writeAtomic(files.backends, `${JSON.stringify(backends, null, 2)}\n`);
}

/** The text of a file, or null when it does not exist. */
export function readIfExists(file: string): string | null {
  return existsSync(file) ? readFileSync(file, 'utf8') : null;
}

/** Write-then-rename so a crash never leaves a half-written file. */
export function writeAtomic(file: string, content: string): void {
  const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  writeFileSync(tmp, content, { mode: 0o600 });
  renameSync(tmp, file);
}
