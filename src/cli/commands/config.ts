/** Local commands that need no server: config check, schema. */
import type { Command } from 'commander';
import { parseProjectConfig } from '../../core/parse-config';
import { projectConfigJsonSchema } from '../../core/json-schema';
import { CliError } from '../cli-error';
import type { GlobalOptions } from '../connection';
import { printJson } from '../output';
import { readProjectFile } from '../project-file';

export function registerConfig(program: Command): void {
  const config = program.command('config').description('work with slipway.yml');
  config
    .command('check')
    .description('validate slipway.yml; errors name the field and what is expected')
    .argument('[file]', 'project file', 'slipway.yml')
    .action((file: string, _opts, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const f = readProjectFile(file);
      const r = parseProjectConfig(f.text);
      if (g.json) {
        printJson(r.ok ? { ok: true, config: r.config } : { ok: false, errors: r.errors });
        if (!r.ok) throw new CliError('', 1);
        return;
      }
      if (!r.ok) throw new CliError(`${f.path}: ${r.errors.length} error(s)\n${r.errors.map((e) => `  ${e.path}: ${e.message}`).join('\n')}`);
      const services = Object.values(r.config.services);
      console.log(`${f.path} is valid: project ${r.config.project}, ${services.length} service(s): ${services.map((s) => `${s.name} (${s.replicas}×, ${s.source.kind === 'build' ? `build ${s.source.context}` : s.source.ref})`).join(', ')}`);
    });

  program
    .command('schema')
    .description('print the JSON Schema of slipway.yml (for editor validation)')
    .action(() => printJson(projectConfigJsonSchema()));
}
