/**
 * Which prebuilt images a caller restricted to one project (a project token, a push
 * webhook) may deploy: images Slipway built for that project (labelled at build, or
 * recorded in one of its releases) and images an admin allowed (a server setting, see
 * core/image-patterns.ts). Without it a project token could run another project's image,
 * and with `run` read its files. Unrestricted tokens may deploy any image on the host.
 */
import { SlipwayError } from '../core/errors';
import { IMAGE_PATTERNS_MAX, imagePatternProblem, matchImagePatterns, normalizeImagePattern } from '../core/image-patterns';
import type { ImageInfo } from '../core/ports/runtime';
import type { EngineContext } from './engine-context';

/** Put on every image Slipway builds: the project it was built for. Not `slipway.project`: containers inherit image labels, and that one marks replicas. */
export const IMAGE_PROJECT_LABEL = 'slipway.image.project';
/** The store setting holding the allow-list (a JSON array of patterns). */
export const ALLOWED_IMAGES_SETTING = 'images.allowed';

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
    if (image.labels?.[IMAGE_PROJECT_LABEL] === project) return;
    if (matchImagePatterns(await this.allowed(), [ref, ...image.tags, image.id])) return;
    if (await this.inReleasesOf(project, image.id)) return;
    throw new SlipwayError(
      'SLW_FORBIDDEN',
      `${field}: image "${ref}" was not built for project "${project}" nor allowed by an admin; an admin can allow it with "slipway images allow ${ref}" (or a pattern such as "${patternHint(ref)}")`,
      [{ path: field, message: `must be an image built for project ${project} or on the admin's allow-list (slipway images allow)` }],
    );
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

/** `repo:*` for a tagged reference: the usual wish is every tag of one repository. */
function patternHint(ref: string): string {
  const colon = ref.lastIndexOf(':');
  return colon > ref.lastIndexOf('/') ? `${ref.slice(0, colon)}:*` : `${ref}:*`;
}
