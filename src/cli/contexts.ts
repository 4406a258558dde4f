/**
 * Named control planes the CLI can talk to (`slipway login` adds one, `slipway context use`
 * picks one), in `$SLIPWAY_CONFIG_DIR/contexts.json` (default `~/.config/slipway`), mode
 * 0600 because it holds tokens.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CliError } from './cli-error';

export interface CliContext {
  url: string;
  token: string;
  /** Who the token acts as, as the server said at login (for `context list`). */
  actor?: string;
}

export interface ContextsFile {
  current: string | null;
  contexts: Record<string, CliContext>;
}

export function contextsFile(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.SLIPWAY_CONFIG_DIR ?? path.join(env.XDG_CONFIG_HOME ?? path.join(os.homedir(), '.config'), 'slipway');
  return path.join(dir, 'contexts.json');
}

export function readContexts(file = contextsFile()): ContextsFile {
  if (!existsSync(file)) return { current: null, contexts: {} };
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as ContextsFile;
    return { current: parsed.current ?? null, contexts: parsed.contexts ?? {} };
  } catch (err) {
    throw new CliError(`${file} is not valid JSON (${(err as Error).message}); fix or remove it`);
  }
}

export function writeContexts(data: ContextsFile, file = contextsFile()): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/** The context named, else the current one, else null. */
export function selectedContext(name?: string): (CliContext & { name: string }) | null {
  const data = readContexts();
  const chosen = name ?? process.env.SLIPWAY_CONTEXT ?? data.current;
  if (!chosen) return null;
  const ctx = data.contexts[chosen];
  if (!ctx) throw new CliError(`no context "${chosen}" (known: ${Object.keys(data.contexts).join(', ') || 'none'}); add one with: slipway login --url <url> --context ${chosen}`);
  return { ...ctx, name: chosen };
}
