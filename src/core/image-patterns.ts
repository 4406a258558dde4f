/**
 * The admin's allow-list of images that project-restricted callers may deploy although
 * Slipway did not build them for their project: exact references or patterns where `*`
 * matches any run of characters (`/` included), e.g. `nginx:*`, `registry.local/base/*`.
 * References are compared in Docker's short form: `docker.io/library/nginx` is `nginx`,
 * and a reference without a tag means `:latest` (as `docker run` reads it).
 */

/** Longest pattern accepted (Docker's own reference limit is 255 for the name). */
export const IMAGE_PATTERN_MAX = 300;
/** How many patterns the allow-list may hold. */
export const IMAGE_PATTERNS_MAX = 200;

const PATTERN_CHARS_RE = /^[A-Za-z0-9._\-/:@*]+$/;

/** Why `pattern` is not an image reference or pattern, or null when it is one. */
export function imagePatternProblem(pattern: string): string | null {
  if (pattern.length === 0) return 'must not be empty';
  if (pattern.length > IMAGE_PATTERN_MAX) return `must be at most ${IMAGE_PATTERN_MAX} characters`;
  if (!PATTERN_CHARS_RE.test(pattern)) return 'must be an image reference (letters, digits, ".", "_", "-", "/", ":", "@") where "*" matches any characters';
  if (pattern.startsWith('/') || pattern.startsWith(':') || pattern.startsWith('@')) return 'must start with an image name or "*"';
  return null;
}

/** Docker's short form of a reference: default registry and `library/` dropped, `:latest` added when untagged. */
export function normalizeImageRef(ref: string): string {
  const short = stripDefaultRegistry(ref.trim());
  if (short.includes('@') || hasTag(short) || /^sha256:[0-9a-f]+$/.test(short)) return short;
  return `${short}:latest`;
}

/** A pattern in the same form; one with `*` gets no implied tag (`registry/x/*` must keep matching any tag). */
export function normalizeImagePattern(pattern: string): string {
  const p = pattern.trim();
  return p.includes('*') ? stripDefaultRegistry(p) : normalizeImageRef(p);
}

/** Whether one of `refs` (the reference asked for, the image's tags…) matches one of `patterns`. */
export function matchImagePatterns(patterns: readonly string[], refs: readonly string[]): string | null {
  const candidates = refs.map(normalizeImageRef);
  for (const pattern of patterns) {
    const re = patternRegExp(normalizeImagePattern(pattern));
    if (candidates.some((c) => re.test(c))) return pattern;
  }
  return null;
}

function patternRegExp(pattern: string): RegExp {
  const source = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${source}$`);
}

function stripDefaultRegistry(ref: string): string {
  for (const prefix of ['docker.io/library/', 'index.docker.io/library/', 'docker.io/', 'index.docker.io/']) {
    if (ref.startsWith(prefix)) return ref.slice(prefix.length);
  }
  return ref.startsWith('library/') ? ref.slice('library/'.length) : ref;
}

/** A tag is a `:` after the last `/` (a registry port, `host:5000/app`, is not one). */
function hasTag(ref: string): boolean {
  return ref.lastIndexOf(':') > ref.lastIndexOf('/');
}
