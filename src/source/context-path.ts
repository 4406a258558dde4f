/**
 * Where a build context and its Dockerfile really are inside a tree the server did not
 * write itself (a git checkout). A committed symlink may point anywhere on the server
 * host, and every later `lstat`/`readdir` of a path through it would follow it, so the
 * walk from the tree's root to the context, and from the context to the Dockerfile, must
 * not pass through a symlink at all (even one a later ".." would step back out of), and
 * the real paths (realpath) of both must lie inside the root's real path.
 */
import { lstat, realpath } from 'node:fs/promises';
import path from 'node:path';
import { SlipwayError } from '../core/errors';
import type { CheckoutContext } from '../core/ports/context-guard';
import { normalizeDockerfilePath } from './build-context';

export interface ContextPath {
  /** The context directory's real path. */
  contextDir: string;
  /** The Dockerfile's path inside the context, normalized. */
  dockerfile: string;
  /** The context's path inside the tree ("." for the root). */
  inRepo: string;
}

/** Resolves the context and Dockerfile inside `root`, or throws SLW_CONFIG_INVALID naming `<field>.context` or `<field>.dockerfile`. */
export async function resolveContextPath(input: CheckoutContext): Promise<ContextPath> {
  const { root, base, context, dockerfile, field } = input;
  const ctxField = `${field}.context`;
  const dfField = `${field}.dockerfile`;
  const refuseContext = (why: string) => invalid(ctxField, `${JSON.stringify(context)} ${why}`);
  if (path.isAbsolute(context) || context.includes('\0')) throw refuseContext('must be a relative path inside the repository');
  const realRoot = await realpath(root);

  // Walk the path as written, segment by segment: lstat never follows the last component,
  // and every earlier one has already been seen to be a real directory.
  const stack: string[] = [];
  for (const segment of [...split(base), ...split(context)]) {
    if (segment === '..') {
      if (stack.length === 0) throw refuseContext('leaves the repository');
      stack.pop();
      continue;
    }
    stack.push(segment);
    const st = await lstat(path.join(realRoot, ...stack)).catch(() => null);
    const inRepo = stack.join('/');
    if (!st) throw refuseContext(`does not exist in the repository (no ${JSON.stringify(inRepo)})`);
    if (st.isSymbolicLink()) throw refuseContext(`goes through the symlink ${JSON.stringify(inRepo)}: a build context must be a directory of the repository reached without symlinks`);
    if (!st.isDirectory()) throw refuseContext(`is not a directory (${JSON.stringify(inRepo)} is a file)`);
  }
  const contextDir = path.join(realRoot, ...stack);

  let df: string;
  try {
    df = normalizeDockerfilePath(dockerfile);
  } catch {
    throw invalid(dfField, `${JSON.stringify(dockerfile)} must be a path inside the build context`);
  }
  const parts = df.split('/');
  for (let i = 0; i < parts.length; i++) {
    const rel = parts.slice(0, i + 1).join('/');
    const st = await lstat(path.join(contextDir, ...parts.slice(0, i + 1))).catch(() => null);
    if (!st) throw invalid(dfField, `no ${JSON.stringify(rel)} in the build context`);
    if (st.isSymbolicLink()) throw invalid(dfField, `${JSON.stringify(dockerfile)} goes through the symlink ${JSON.stringify(rel)}: the Dockerfile must be a file of the build context reached without symlinks`);
    const last = i === parts.length - 1;
    if (last ? !st.isFile() : !st.isDirectory()) throw invalid(dfField, `${JSON.stringify(dockerfile)} is not a file of the build context`);
  }

  // Belt and braces: nothing above followed a link, so the real paths must agree.
  const realContext = await realpath(contextDir);
  const realDockerfile = await realpath(path.join(contextDir, df));
  if (!inside(realRoot, realContext)) throw refuseContext('resolves outside the repository');
  if (!inside(realContext, realDockerfile)) throw invalid(dfField, `${JSON.stringify(dockerfile)} resolves outside the build context`);
  return { contextDir: realContext, dockerfile: df, inRepo: stack.join('/') || '.' };
}

function split(p: string): string[] {
  return p.split('/').filter((s) => s !== '' && s !== '.');
}

function inside(parent: string, child: string): boolean {
  return child === parent || child.startsWith(`${parent}${path.sep}`);
}

function invalid(field: string, message: string): SlipwayError {
  return new SlipwayError('SLW_CONFIG_INVALID', `${field}: ${message}`, [{ path: field, message }]);
}
