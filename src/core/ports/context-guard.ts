/**
 * Where a build context and its Dockerfile really are, checked before the server packs or
 * builds them. A repository or an upload can carry symlinks that point anywhere on the
 * server host; a context or Dockerfile reached through one is refused (SLW_CONFIG_INVALID
 * naming `<field>.context` or `<field>.dockerfile`), never followed.
 */
export interface CheckoutContext {
  /** The checkout's root directory on the server. */
  root: string;
  /** Directory of slipway.yml inside the repository, relative ("" is the root). */
  base: string;
  /** `build.context` as written (relative to `base`). */
  context: string;
  /** `build.dockerfile` as written (relative to the context). */
  dockerfile: string;
  /** Config path errors name, e.g. `services.web.build`. */
  field: string;
}

export interface ContextGuard {
  /**
   * The context's real path inside the checkout. Refuses a context or Dockerfile that is
   * missing, is or goes through a symlink (even one a later ".." steps back out of), or
   * whose real path is outside the checkout (context) or the context (Dockerfile).
   * `inRepo` is the context's path inside the repository ("." for the root).
   */
  resolveCheckoutContext(c: CheckoutContext): Promise<{ contextDir: string; dockerfile: string; inRepo: string }>;
  /** Refuses a Dockerfile that is, or goes through, a symlink entry of a stored archive, or names no file in it. */
  checkArchiveDockerfile(archiveFile: string, dockerfile: string, field: string): Promise<void>;
  /**
   * The Dockerfile's text (the last entry of that name: the one Docker keeps), after the
   * same checks as checkArchiveDockerfile; refuses one over DOCKERFILE_MAX_BYTES naming `field`.
   */
  readArchiveDockerfile(archiveFile: string, dockerfile: string, field: string): Promise<string>;
  /** The Dockerfile's text in a checkout, after the same checks as resolveCheckoutContext and the same size limit. */
  readCheckoutDockerfile(c: CheckoutContext): Promise<string>;
}

/** Largest Dockerfile whose images are checked for a project-restricted build (real ones are a few KB). */
export const DOCKERFILE_MAX_BYTES = 256 * 1024;
