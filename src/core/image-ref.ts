/**
 * Docker image references (`[host[:port]/]path[:tag][@digest]`, or an image id), after the
 * grammar of distribution/reference. Anything else (a newline, a space, a shell character)
 * is refused where it is written instead of failing later in Docker with the input echoed.
 */
const DOMAIN_COMPONENT = '[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE_RE = new RegExp(`^(?:${DOMAIN}/)?(${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::${TAG})?(?:@${DIGEST})?$`);
const IMAGE_ID_RE = /^sha256:[0-9a-f]{64}$/;

/** Docker's limit on the name part; tag and digest add at most a few hundred more. */
const MAX_NAME = 255;
const MAX_REFERENCE = 512;

export const IMAGE_REF_EXPECTED = 'must be an image reference such as "slipway/node:20" or "registry.example.com/team/app:1.2@sha256:…" (lowercase path, optional tag and digest, no spaces)';

/** Why `ref` is not an image reference, or null when it is one. */
export function imageRefProblem(ref: string): string | null {
  if (ref.length === 0) return 'must not be empty';
  if (ref.length > MAX_REFERENCE) return `must be at most ${MAX_REFERENCE} characters`;
  if (IMAGE_ID_RE.test(ref)) return null;
  const m = REFERENCE_RE.exec(ref);
  if (!m) return IMAGE_REF_EXPECTED;
  const name = ref.split(/[@]/)[0]!.replace(/:[\w][\w.-]*$/, '');
  if (name.length > MAX_NAME) return `the repository name must be at most ${MAX_NAME} characters`;
  return null;
}
