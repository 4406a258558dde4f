/** Reads slipway.yml for commands that act on "this project". */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseProjectConfig, formatErrors } from '../core/parse-config';
import type { ProjectConfig } from '../core/config';
import { CliError } from './cli-error';

export interface ProjectFile {
  path: string;
  dir: string;
  text: string;
}

export function readProjectFile(file = 'slipway.yml'): ProjectFile {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${abs}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; pass the file with -f/--file`);
  }
  return { path: abs, dir: path.dirname(abs), text };
}

export function loadProjectConfig(file?: string): { file: ProjectFile; config: ProjectConfig } {
  const f = readProjectFile(file);
  const parsed = parseProjectConfig(f.text);
  if (!parsed.ok) throw new CliError(`${f.path} is invalid:\n${formatErrors(parsed.errors)}`);
  return { file: f, config: parsed.config };
}

/** The project name: --project, else the `project:` of slipway.yml. */
export function projectName(opts: { project?: string; file?: string }): string {
  if (opts.project) return opts.project;
  return loadProjectConfig(opts.file).config.project;
}
