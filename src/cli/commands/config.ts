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
      // Validate production and every environment the file has overrides for.
      const first = parseProjectConfig(f.text);
      const envs = first.ok ? ['production', ...first.config.environments.filter((e) => e !== 'production')] : ['production'];
      const results = envs.map((env) => ({ env, result: env === 'production' ? first : parseProjectConfig(f.text, { env }) }));
      const errors = results.flatMap(({ result }) => (result.ok ? [] : result.errors));
      const unique = [...new Map(errors.map((e) => [`${e.path}: ${e.message}`, e])).values()];
      if (g.json) {
        printJson(unique.length ? { ok: false, errors: unique } : { ok: true, environments: Object.fromEntries(results.map(({ env, result }) => [env, result.ok ? result.config : null])) });
        if (unique.length) throw new CliError('', 1);
        return;
      }
      if (unique.length) throw new CliError(`${f.path}: ${unique.length} error(s)\n${unique.map((e) => `  ${e.path}: ${e.message}`).join('\n')}`);
      for (const { env, result } of results) {
        if (!result.ok) continue;
        const services = Object.values(result.config.services);
        const accessories = Object.values(result.config.accessories ?? {});
        const withAccessories = accessories.length ? `; ${accessories.length} accessory(ies): ${accessories.map((a) => `${a.name} (${a.kind}, ${a.image})`).join(', ')}` : '';
        console.log(`${f.path} is valid for ${env}: project ${result.config.project}, ${services.length} service(s): ${services.map((s) => `${s.name} (${s.replicas}×, ${s.source.kind === 'build' ? `build ${s.source.context}` : s.source.ref})`).join(', ')}${withAccessories}`);
      }
    });

  program
    .command('schema')
    .description('print the JSON Schema of slipway.yml (for editor validation)')
    .action(() => printJson(projectConfigJsonSchema()));
}
