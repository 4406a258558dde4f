/**
 * Which prebuilt images a caller restricted to one project (a project token, a push
 * webhook) may deploy: images Slipway built for that project (labelled at build, or
 * recorded in one of its releases) and images an admin allowed (a server setting, see
 * core/image-patterns.ts). Without it a project token could run another project's image,
 * and with `run` read its files. Unrestricted tokens may deploy any image on the host.
 */
import { dockerfileImages } from '../core/dockerfile-images';
import { SlipwayError } from '../core/errors';
import { IMAGE_PATTERNS_MAX, imagePatternProblem, matchImagePatterns, normalizeImagePattern } from '../core/image-patterns';
import { IMAGE_PROJECT_LABEL, type ImageInfo } from '../core/ports/runtime';
import type { EngineContext } from './engine-context';

export { IMAGE_PROJECT_LABEL };
/** The store setting holding the allow-list (a JSON array of patterns). */
export const ALLOWED_IMAGES_SETTING = 'images.allowed';
/**
 * Slipway's own offline base images (drivers/docker/base-images.ts, `slipway base-image
 * create`): every project builds on them, so a Dockerfile may always start FROM one. A
 * project's own images are `slipway/<project>-<service>`: never one of these names.
 */
export const BUILD_BASE_IMAGES = ['slipway/node:*', 'slipway/node@*', 'slipway/static:*', 'slipway/static@*', 'slipway/debian:*', 'slipway/debian@*'];
/** Longest reference quoted back in a refusal (a Dockerfile line can be long). */
const QUOTED_REF_MAX = 200;

export class ImagePolicy {
  /** Changes of the list, one at a time (read-modify-write of one setting). */
  private changes: Promise<unknown> = Promise.resolve();

  constructor(private readonly ctx: Pick<EngineContext, 'store'>) {}

  async allowed(): Promise<string[]> {
    const raw = await this.ctx.store.getSetting(ALLOWED_IMAGES_SETTING);
    if (!raw) return [];
    try {
      const list: unknown = JSON.parse(raw);
      return Array.isArray(list) ? list.filter((p): p is string => typeof p === 'string') : [];
    } catch {
      return [];
    }
  }

  /** Adds patterns (validated, normalized, deduplicated); returns the list and what was new. */
  async allow(patterns: string[]): Promise<{ allowed: string[]; changed: string[] }> {
    const normalized = patterns.map((p, i) => {
      const problem = imagePatternProblem(p);
      if (problem) throw new SlipwayError('SLW_BAD_REQUEST', `images[${i}]: ${problem}`, [{ path: `images.${i}`, message: problem }]);
      return normalizeImagePattern(p);
    });
    return this.change(async (list) => {
      const added = [...new Set(normalized)].filter((p) => !list.includes(p));
      if (list.length + added.length > IMAGE_PATTERNS_MAX) {
        throw new SlipwayError('SLW_BAD_REQUEST', `the allow-list holds at most ${IMAGE_PATTERNS_MAX} images or patterns; use a pattern ("registry/team/*") instead of many references`, [
          { path: 'images', message: `at most ${IMAGE_PATTERNS_MAX} entries in all` },
        ]);
      }
      return { list: [...list, ...added], changed: added };
    });
  }

  /** Removes patterns (as given or normalized); unknown ones are ignored and not reported. */
  disallow(patterns: string[]): Promise<{ allowed: string[]; changed: string[] }> {
    const wanted = new Set(patterns.flatMap((p) => [p, normalizeImagePattern(p)]));
    return this.change(async (list) => {
      const removed = list.filter((p) => wanted.has(p));
      return { list: list.filter((p) => !wanted.has(p)), changed: removed };
    });
  }

  /**
   * Refuses (403) an image a caller restricted to `project` may not deploy. `ref` is what the
   * caller named, `image` what it resolved to on the host, `field` the input that named it.
   */
  async check(project: string, ref: string, image: ImageInfo, field: string): Promise<void> {
    if (await this.permits(project, ref, image)) return;
    throw new SlipwayError(
      'SLW_FORBIDDEN',
      `${field}: image "${ref}" was not built for project "${project}" nor allowed by an admin; an admin can allow it with "slipway images allow ${ref}" (or a pattern such as "${patternHint(ref)}")`,
      [{ path: field, message: `must be an image built for project ${project} or on the admin's allow-list (slipway images allow)` }],
    );
  }

  /**
   * Refuses (403) the Dockerfile of a build for a caller restricted to `project` when it reads
   * an image that caller could not deploy (FROM, COPY --from, RUN --mount from, ONBUILD, a
   * `# syntax` frontend), or one that cannot be known before the build (a variable without a
   * known value). Slipway's base images are always allowed. `buildArgs` are `build.args`,
   * `field` is `services.<svc>.build.dockerfile`, `inspect` finds an image on the host.
   */
  async checkDockerfile(project: string, text: string, buildArgs: Readonly<Record<string, string>>, field: string, inspect: (ref: string) => Promise<ImageInfo | null>): Promise<void> {
    for (const r of dockerfileImages(text, buildArgs)) {
      const what = `line ${r.line}: ${r.kind === 'syntax' ? 'the "# syntax" frontend' : r.kind} ${quoted(r.ref)}`;
      if (r.unresolved) {
        throw new SlipwayError('SLW_FORBIDDEN', `${field}: ${what} cannot be checked before the build: ${r.unresolved}; a build for a token restricted to project "${project}" may only read images known in advance`, [
          { path: field, message: `line ${r.line}: image references must resolve before the build (ARG defaults or build.args)` },
        ]);
      }
      const image = await Promise.resolve(r.ref).then(inspect).catch(() => null);
      if (matchImagePatterns(BUILD_BASE_IMAGES, image ? [r.ref, ...image.tags] : [r.ref])) continue;
      if (await this.permits(project, r.ref, image)) continue;
      throw new SlipwayError(
        'SLW_FORBIDDEN',
        `${field}: ${what}: image ${quoted(r.ref)} was not built for project "${project}" nor allowed by an admin${image ? '' : ' (and it is not on this host)'}; Slipway's base images (slipway/node, slipway/static) are always allowed, and an admin can allow this one with "slipway images allow ${r.ref.slice(0, QUOTED_REF_MAX)}" (or a pattern such as "${patternHint(r.ref.slice(0, QUOTED_REF_MAX))}")`,
        [{ path: field, message: `line ${r.line}: ${r.kind} must name an image built for project ${project}, a Slipway base image, or one on the admin's allow-list (slipway images allow)` }],
      );
    }
  }

  /** Labelled for the project, on the allow-list (by the reference, a tag or the ID), or in the project's releases. */
  private async permits(project: string, ref: string, image: ImageInfo | null): Promise<boolean> {
    if (image?.labels?.[IMAGE_PROJECT_LABEL] === project) return true;
    if (matchImagePatterns(await this.allowed(), image ? [ref, ...image.tags, image.id] : [ref])) return true;
    return image ? this.inReleasesOf(project, image.id) : false;
  }

  /** Images built here before the label existed count through the project's own release history. */
  private async inReleasesOf(projectName: string, digest: string): Promise<boolean> {
    const { store } = this.ctx;
    const project = await store.getProject(projectName);
    if (!project) return false;
    const [services, envs] = await Promise.all([store.listServices(project.id), store.listEnvironments(project.id)]);
    for (const s of services) {
      for (const e of envs) {
        if ((await store.listReleases(s.id, e.id)).some((r) => r.imageDigest === digest)) return true;
      }
    }
    return false;
  }

  private change(fn: (list: string[]) => Promise<{ list: string[]; changed: string[] }>): Promise<{ allowed: string[]; changed: string[] }> {
    const next = this.changes.then(async () => {
      const { list, changed } = await fn(await this.allowed());
      if (changed.length > 0) await this.ctx.store.setSetting(ALLOWED_IMAGES_SETTING, JSON.stringify(list));
      return { allowed: list, changed };
    });
    this.changes = next.catch(() => undefined);
    return next;
  }
}

function quoted(ref: string): string {
  return JSON.stringify(ref.length > QUOTED_REF_MAX ? `${ref.slice(0, QUOTED_REF_MAX)}…` : ref);
}

/** `repo:*` for a tagged reference: the usual wish is every tag of one repository. */
function patternHint(ref: string): string {
  const colon = ref.lastIndexOf(':');
  return colon > ref.lastIndexOf('/') ? `${ref.slice(0, colon)}:*` : `${ref}:*`;
}
