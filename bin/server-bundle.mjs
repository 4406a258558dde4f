// `slipway server` runs from one ESM bundle of src/ (esbuild, dependencies left as imports),
// rebuilt whenever a source file is newer than it. Loading the sources through tsx instead
// costs the long-running server ~50 MB more memory (its transform caches and per-file
// modules); the CLI, short-lived, keeps using tsx. SLIPWAY_NO_BUNDLE=1 runs the sources.
import { mkdirSync, readdirSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// Two levels below the root, like the sources: src/api/dashboard-assets.ts finds ../../web/dist.
const BUNDLE = path.join(ROOT, 'dist', 'server', 'main.mjs');

function newestSource(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function bundleIsCurrent() {
  try {
    const built = statSync(BUNDLE).mtimeMs;
    return built >= newestSource(path.join(ROOT, 'src')) && built >= statSync(path.join(ROOT, 'package-lock.json')).mtimeMs;
  } catch {
    return false;
  }
}

/** The bundle's URL, built first if a source changed; null if it cannot be built (then run the sources). */
export async function serverBundle() {
  if (process.env.SLIPWAY_NO_BUNDLE === '1') return null;
  if (bundleIsCurrent()) return pathToFileURL(BUNDLE).href;
  try {
    const { build, stop } = await import('esbuild');
    mkdirSync(path.dirname(BUNDLE), { recursive: true });
    // Concurrent starts each write their own file; the rename makes one of them current at once.
    const tmp = `${BUNDLE}.${process.pid}.tmp.mjs`;
    await build({
      entryPoints: [path.join(ROOT, 'src', 'main.ts')],
      outfile: tmp,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      // No source map: stack traces name the bundle's lines, but functions keep their names.
      logLevel: 'error',
    });
    renameSync(tmp, BUNDLE);
    // esbuild keeps a helper process for the next build; the server builds once.
    stop();
    return pathToFileURL(BUNDLE).href;
  } catch (err) {
    process.stderr.write(`slipway: cannot bundle the server (${err instanceof Error ? err.message : String(err)}); running the sources through tsx\n`);
    return null;
  }
}
