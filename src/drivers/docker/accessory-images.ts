/**
 * AccessoryImages port over the Docker API: `slipway/postgres:15`, `slipway/redis:7`,
 * `slipway/nats:2` built on first use from Debian's packages FROM `slipway/debian:bookworm`
 * (bootstrapped first when missing), with the build streamed. An image carrying the same recipe
 * hash is reused; a changed recipe rebuilds. Concurrent ensure() calls for one image share one
 * build. Recipes: accessory-recipes.ts; docs/accessory-images.md. `repositoryPrefix`
 * (SLIPWAY_ACCESSORY_IMAGE_PREFIX) tags them `<prefix>/postgres:15`… instead: the same recipes,
 * built and used beside the `slipway/*` ones (never touching those).
 */
import type Docker from 'dockerode';
import { ACCESSORY_KINDS } from '../../core/accessory-kinds';
import { SlipwayError } from '../../core/errors';
import type { AccessoryImage, AccessoryImages, BuiltInAccessoryKind } from '../../core/ports/accessory-images';
import { packEntries, type TarEntry } from '../../source/tar-pack';
import { ACCESSORY_DEBIAN_RELEASE, RECIPE_LABEL, accessoryRecipe } from './accessory-recipes';
import { runBuild } from './build';
import { createDebianBaseImage, type DebianBaseOptions } from './debian-base';
import { inspectImage, inspectImageRaw } from './images';
import { SharedBuilds } from './shared-builds';

export interface DockerAccessoryImagesOptions {
  /** How the Debian base is bootstrapped when missing (temp dir, host files in tests). */
  debian?: Omit<DebianBaseOptions, 'force' | 'onOutput' | 'codename'>;
  /** The images' repository prefix (default `slipway`: `slipway/postgres:15`). */
  repositoryPrefix?: string;
}

export class DockerAccessoryImages implements AccessoryImages {
  private readonly builds = new SharedBuilds<AccessoryImage>();

  constructor(
    private readonly docker: Docker,
    private readonly opts: DockerAccessoryImagesOptions = {},
  ) {}

  async ensure(kind: BuiltInAccessoryKind, version: string, onOutput?: (line: string) => void): Promise<AccessoryImage> {
    const info = ACCESSORY_KINDS[kind];
    if (!info) throw new SlipwayError('SLW_BUILD_FAILED', `no built-in accessory image for kind "${String(kind)}"`);
    if (!info.versions.includes(version)) {
      throw new SlipwayError(
        'SLW_BUILD_FAILED',
        `no built-in ${kind} image at version "${version}": the built-in one is made from Debian ${ACCESSORY_DEBIAN_RELEASE} packages (${info.versions.join(', ')}); set \`image:\` to use another (docs/accessory-images.md)`,
      );
    }
    const recipe = accessoryRecipe(kind, version, this.opts.repositoryPrefix);
    const current = await this.current(recipe.ref, recipe.hash);
    if (current) return current;
    return this.builds.run(recipe.ref, onOutput, async (emit) => {
      if (!(await inspectImageRaw(this.docker, recipe.from))) {
        emit(`${recipe.from} is not on this host: bootstrapping it first`);
        await createDebianBaseImage(this.docker, { ...this.opts.debian, codename: ACCESSORY_DEBIAN_RELEASE, onOutput: emit });
      }
      emit(`building ${recipe.ref} from Debian ${ACCESSORY_DEBIAN_RELEASE} packages`);
      const started = Date.now();
      const entries: TarEntry[] = [{ type: 'content', name: 'Dockerfile', content: recipe.dockerfile, mode: 0o644 }, ...recipe.files.map((f) => ({ type: 'content' as const, ...f }))];
      await runBuild(this.docker, packEntries(entries), { tag: recipe.ref, dockerfile: 'Dockerfile', labels: recipe.labels, onOutput: emit });
      const image = await inspectImage(this.docker, recipe.ref);
      if (!image) throw new SlipwayError('SLW_BUILD_FAILED', `building ${recipe.ref}: the image is missing after the build`);
      emit(`built ${recipe.ref} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return { ref: recipe.ref, id: image.id, built: true };
    });
  }

  private async current(ref: string, hash: string): Promise<AccessoryImage | null> {
    const raw = await inspectImageRaw(this.docker, ref);
    if (raw?.Config?.Labels?.[RECIPE_LABEL] !== hash) return null;
    return { ref, id: raw.Id, built: false };
  }
}
