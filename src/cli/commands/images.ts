/** slipway images: the admin's allow-list of images project-restricted tokens may deploy. */
import type { Command } from 'commander';
import { connect, type GlobalOptions } from '../connection';
import { printJson } from '../output';

export function registerImages(program: Command): void {
  const images = program
    .command('images')
    .description("images project-restricted tokens may deploy besides those built for their project (admin's allow-list)");
  images
    .command('allowed')
    .description('the allow-list')
    .action(async (_opts, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const { allowed } = await connect(g).allowedImages();
      if (g.json) return printJson(allowed);
      if (allowed.length === 0) return console.log('no image is allowed beyond those built for each project (slipway images allow REF…)');
      for (const p of allowed) console.log(p);
    });
  images
    .command('allow')
    .description('allow images for every project-restricted token: references, or patterns where * matches any characters')
    .argument('<ref...>', 'e.g. nginx:1.25, nginx:*, registry.local/base/*')
    .addHelpText('after', "\nExamples:\n  slipway images allow nginx:1.25\n  slipway images allow 'registry.local/base/*' 'redis:*'")
    .action(async (refs: string[], _opts, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const res = await connect(g).allowImages(refs);
      if (g.json) return printJson(res);
      console.log(res.changed.length ? `allowed ${res.changed.join(', ')}` : 'already allowed');
    });
  images
    .command('disallow')
    .description('remove an image or pattern from the allow-list (running releases keep running)')
    .argument('<ref>', 'as `slipway images allowed` lists it')
    .action(async (ref: string, _opts, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const res = await connect(g).disallowImage(ref);
      if (g.json) return printJson(res);
      console.log(res.changed.length ? `removed ${res.changed.join(', ')}` : `"${ref}" was not on the allow-list`);
    });
}
