/**
 * Serves the dashboard: the static single-page app Vite builds into web/dist. Every path
 * that is not an API route gets a file of the build, or index.html (the app routes on the
 * client). The app talks to the same /api/v1 routes as the CLI; nothing here is private API.
 * Files are read once per change (mtime) and kept gzip-compressed in memory.
 */
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SlipwayError } from '../core/errors';

/** Where the build is by default: web/dist of this checkout (SLIPWAY_DASHBOARD_DIR, a server setting, overrides it). */
export function builtInDashboardDir(): string {
  return fileURLToPath(new URL('../../web/dist', import.meta.url));
}

/** Where the build is: SLIPWAY_DASHBOARD_DIR, or web/dist of this checkout. */
export function dashboardDir(): string {
  return process.env.SLIPWAY_DASHBOARD_DIR ?? builtInDashboardDir();
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** The app's scripts and styles all come from this origin; it cannot be framed. */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
};

interface CachedFile {
  mtimeMs: number;
  body: Buffer;
  gzip: Buffer | null;
}

export function dashboardRoutes(app: FastifyInstance, dir = dashboardDir()): void {
  const root = resolve(dir);
  const cache = new Map<string, CachedFile>();

  async function load(path: string): Promise<CachedFile | null> {
    const info = await stat(path).catch(() => null);
    if (!info?.isFile()) return null;
    const hit = cache.get(path);
    if (hit && hit.mtimeMs === info.mtimeMs) return hit;
    const body = await readFile(path);
    const compressible = /\.(html|js|css|svg|json|txt)$/.test(path) && body.length > 512;
    const file = { mtimeMs: info.mtimeMs, body, gzip: compressible ? gzipSync(body, { level: 9 }) : null };
    cache.set(path, file);
    return file;
  }

  async function serve(req: FastifyRequest, reply: FastifyReply) {
    let urlPath: string;
    try {
      urlPath = decodeURIComponent(req.url.split('?')[0]!);
    } catch {
      throw new SlipwayError('SLW_BAD_REQUEST', 'the path is not valid percent-encoding', [{ path: 'url', message: 'must be a valid percent-encoded path' }]);
    }
    if (urlPath.startsWith('/api/')) throw new SlipwayError('SLW_NOT_FOUND', `no route ${req.method} ${urlPath}`);
    // Only files under the build directory; anything else is the app's index.
    const candidate = normalize(join(root, urlPath));
    const inside = candidate.startsWith(root + sep);
    let path = inside ? candidate : join(root, 'index.html');
    let file = await load(path);
    if (!file) {
      // A missing hashed asset is a real 404; any other path is a client-side route.
      if (urlPath.startsWith('/assets/')) throw new SlipwayError('SLW_NOT_FOUND', `no dashboard asset ${urlPath}`);
      path = join(root, 'index.html');
      file = await load(path);
    }
    if (!file) return notBuilt(reply, root);
    const immutable = path.startsWith(join(root, 'assets') + sep);
    void reply
      .headers(SECURITY_HEADERS)
      .header('content-type', TYPES[extname(path)] ?? 'application/octet-stream')
      .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
      .header('vary', 'accept-encoding');
    const gzipOk = file.gzip && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    if (gzipOk) return reply.header('content-encoding', 'gzip').send(file.gzip);
    return reply.send(file.body);
  }

  app.get('/', { config: { public: true } }, serve);
  app.get('/*', { config: { public: true } }, serve);
}

function notBuilt(reply: FastifyReply, root: string) {
  return reply
    .status(503)
    .header('content-type', 'text/plain; charset=utf-8')
    .send(`The dashboard is not built (nothing in ${root}).\nBuild it with: npm run build:web\nThe API is at /api/v1 (see /api/v1/openapi.json).\n`);
}
