import type { Command } from 'commander';
import { BASE_IMAGE_KINDS, type BaseImageKind } from '../../core/ports/base-images';
import { ApiError } from '../../client/api-client';
import { CliError } from '../cli-error';
import { connect, type GlobalOptions } from '../connection';
import { printJson } from '../output';

export function registerBaseImage(program: Command): void {
  const base = program.command('base-image').description('offline base images built from this host (no registry needed)');
  base
    .command('create')
    .description('build slipway/node:<version> from the host node binary, slipway/static from busybox-static, or slipway/debian:<codename> by debootstrap from the host apt mirror')
    .argument('<kind>', BASE_IMAGE_KINDS.join(' | '))
    .option('--force', 'rebuild even if the image exists')
    .action(async (kind: string, opts: { force?: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      if (!(BASE_IMAGE_KINDS as readonly string[]).includes(kind)) throw new CliError(`kind: expected one of ${BASE_IMAGE_KINDS.join(', ')}, got "${kind}"`);
      if (!g.json) {
        console.log(`building the ${kind} base image on the server host…`);
        // The server answers at the end; say why a first debian build takes a while.
        if (kind === 'debian') console.log('(debootstrap --variant=minbase from the host apt mirror, then docker import: a minute or two the first time; progress is in the server log)');
      }
      const client = connect(g);
      // A slow debootstrap can outlast the HTTP client's 300 s wait for an answer: asking again
      // joins the build still running on the server (one build per image there).
      let image;
      for (let attempt = 1; ; attempt++) {
        try {
          ({ image } = await client.createBaseImage(kind as BaseImageKind, Boolean(opts.force)));
          break;
        } catch (err) {
          if (!(err instanceof ApiError && /UND_ERR_HEADERS_TIMEOUT/.test(err.message)) || attempt >= 6) throw err;
          if (!g.json) console.log('still building on the server…');
        }
      }
      if (g.json) return printJson(image);
      console.log(`${image.reused ? 'up to date' : 'built'}: ${image.tags.join(', ')} (${image.id.slice(0, 19)}, ${(image.sizeBytes / 1e6).toFixed(1)} MB)`);
    });
}
