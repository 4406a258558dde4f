import type { Command } from 'commander';
import { BASE_IMAGE_KINDS, type BaseImageKind } from '../../core/ports/base-images';
import { CliError } from '../cli-error';
import { connect, type GlobalOptions } from '../connection';
import { printJson } from '../output';

export function registerBaseImage(program: Command): void {
  const base = program.command('base-image').description('offline base images built from this host (no registry needed)');
  base
    .command('create')
    .description('build slipway/node:<version> from the host node binary, or slipway/static from busybox-static')
    .argument('<kind>', BASE_IMAGE_KINDS.join(' | '))
    .option('--force', 'rebuild even if the image exists')
    .action(async (kind: string, opts: { force?: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      if (!(BASE_IMAGE_KINDS as readonly string[]).includes(kind)) throw new CliError(`kind: expected one of ${BASE_IMAGE_KINDS.join(', ')}, got "${kind}"`);
      if (!g.json) console.log(`building the ${kind} base image on the server host…`);
      const { image } = await connect(g).createBaseImage(kind as BaseImageKind, Boolean(opts.force));
      if (g.json) return printJson(image);
      console.log(`${image.reused ? 'up to date' : 'built'}: ${image.tags.join(', ')} (${image.id.slice(0, 19)}, ${(image.sizeBytes / 1e6).toFixed(1)} MB)`);
    });
}
