/** A tar stream of a build context directory, honouring `.dockerignore` (the Dockerfile is always sent). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import ignore from '@balena/dockerignore';
import tar from 'tar-fs';

export function packContext(contextDir: string, dockerfile: string): Readable {
  let rules: string[] = [];
  try {
    rules = readFileSync(path.join(contextDir, '.dockerignore'), 'utf8').split('\n');
  } catch {
    // no .dockerignore
  }
  const ig = ignore().add(rules);
  const pack = tar.pack(contextDir, {
    ignore: (name) => {
      const rel = path.relative(contextDir, name).split(path.sep).join('/');
      if (rel === '' || rel === dockerfile || rel === '.dockerignore') return false;
      return ig.ignores(rel);
    },
  });
  // tar-fs returns a tar-stream Pack, a streamx stream that Docker's client reads like a Readable.
  return pack as unknown as Readable;
}
