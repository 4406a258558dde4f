/**
 * Which environment a pushed git ref deploys to: slipway.yml's `branches:` (branch name or
 * pattern → environment) and `tags:` (tag name or pattern → environment). Pure.
 *
 * Patterns are globs over the name (`release/1.2`, `v1.0.0`, never the `refs/…` prefix):
 *   `*`  any run of characters except "/" (possibly none): `release/*` matches `release/1.2`,
 *        not `release/a/b`;
 *   `**` any run of characters, "/" included: `release/**` matches `release/a/b`;
 *   `?`  exactly one character except "/".
 * Everything else is literal. There are no character classes (`[`…`]`), no braces.
 *
 * Precedence when several keys match: an exact name (a key without wildcards) beats every
 * pattern; among patterns the most specific wins: the most literal characters, then the
 * fewest wildcards, then the fewest `**`, then the fewest `*` (so `?` beats `*` beats `**`),
 * then the one declared first in the file.
 */

/** The kind of ref a push names. */
export type RefKind = 'branch' | 'tag';

/** A push's ref, split: `refs/heads/<name>` is a branch, `refs/tags/<name>` a tag. */
export interface PushedRef {
  kind: RefKind;
  name: string;
  /** The full ref (`refs/heads/main`, `refs/tags/v1.0.0`). */
  ref: string;
}

/** The map a ref kind is looked up in, as written in slipway.yml. */
export const REF_MAP_FIELD: Record<RefKind, 'branches' | 'tags'> = { branch: 'branches', tag: 'tags' };

/** Why a `branches:` / `tags:` key (a name or a pattern) is not accepted, or null. */
export function refPatternProblem(key: string): string | null {
  if (key === '') return 'must not be empty';
  if (key.length > 200) return 'must be at most 200 characters';
  const bad = [...key].find((c) => !/^[A-Za-z0-9._/+@*?-]$/.test(c));
  if (bad !== undefined) {
    const hint = '[]{}'.includes(bad) ? ' (no character classes or braces: patterns use *, ** and ?)' : '';
    return `${JSON.stringify(bad)} is not allowed: names are letters, digits and . _ / + @ -, patterns add *, ** and ?${hint}`;
  }
  if (key.includes('***')) return '"***" is not a wildcard: use * (within one "/" segment) or ** (across "/")';
  if (key.startsWith('-') || key.startsWith('/') || key.endsWith('/') || key.includes('//') || key.includes('..') || key.endsWith('.lock')) {
    return 'must be a valid git ref name (no leading "-" or "/", no trailing "/", no "//" or "..")';
  }
  if (key.startsWith('refs/')) return 'names a branch or tag without "refs/heads/" or "refs/tags/"';
  return null;
}

/** Whether the key has wildcards (else it is an exact name). */
export function isPattern(key: string): boolean {
  return key.includes('*') || key.includes('?');
}

/** The regular expression a pattern (or exact name) stands for, anchored. */
export function patternRegExp(key: string): RegExp {
  let re = '';
  for (let i = 0; i < key.length; i++) {
    const c = key[i]!;
    if (c === '*' && key[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** How specific a key is; compared by compareSpecificity. */
export interface Specificity {
  exact: boolean;
  literals: number;
  wildcards: number;
  doubleStars: number;
  stars: number;
}

export function specificity(key: string): Specificity {
  const doubleStars = key.match(/\*\*/g)?.length ?? 0;
  const stars = (key.match(/\*/g)?.length ?? 0) - 2 * doubleStars;
  const questions = key.match(/\?/g)?.length ?? 0;
  const wildcards = doubleStars + stars + questions;
  return { exact: wildcards === 0, literals: key.length - 2 * doubleStars - stars - questions, wildcards, doubleStars, stars };
}

/** Negative when `a` is more specific than `b` (wins), positive when less, 0 on a tie. */
export function compareSpecificity(a: Specificity, b: Specificity): number {
  if (a.exact !== b.exact) return a.exact ? -1 : 1;
  return b.literals - a.literals || a.wildcards - b.wildcards || a.doubleStars - b.doubleStars || a.stars - b.stars;
}

export interface RefMatch {
  /** The key of the map that matched, as written (the name itself, or a pattern). */
  key: string;
  env: string;
}

/**
 * The entry of `map` (name or pattern → environment) that `name` deploys by, or null. An exact
 * name wins; else the most specific pattern; ties go to the one declared first (the map's order).
 */
export function matchRef(map: Record<string, string>, name: string): RefMatch | null {
  if (!isPattern(name) && Object.hasOwn(map, name)) return { key: name, env: map[name]! };
  let best: { key: string; env: string; spec: Specificity } | null = null;
  for (const [key, env] of Object.entries(map)) {
    if (!isPattern(key) || !patternRegExp(key).test(name)) continue;
    const spec = specificity(key);
    if (!best || compareSpecificity(spec, best.spec) < 0) best = { key, env, spec };
  }
  return best && { key: best.key, env: best.env };
}

/**
 * A pushed ref: GitHub sends full refs (`refs/heads/…`, `refs/tags/…`); the generic form may
 * also send a bare branch name. Null for anything else (`refs/pull/1/head`, `refs/notes/…`).
 */
export function parsePushedRef(ref: string, bareIsBranch: boolean): PushedRef | null {
  for (const [prefix, kind] of [['refs/heads/', 'branch'], ['refs/tags/', 'tag']] as const) {
    if (ref.startsWith(prefix) && ref.length > prefix.length) return { kind, name: ref.slice(prefix.length), ref };
  }
  if (bareIsBranch && !ref.startsWith('refs/')) return { kind: 'branch', name: ref, ref: `refs/heads/${ref}` };
  return null;
}

/**
 * webhooks.allow_force_push: `true` (every branch and tag), or a list whose entries are branch
 * names or patterns (`main`, `release/*`) and tags written `refs/tags/<name or pattern>`.
 */
export function rewindAllowed(allow: boolean | string[], pushed: PushedRef): boolean {
  if (allow === true) return true;
  if (!Array.isArray(allow)) return false;
  return allow.some((entry) => {
    const [kind, key] = entry.startsWith('refs/tags/') ? (['tag', entry.slice('refs/tags/'.length)] as const) : (['branch', entry.replace(/^refs\/heads\//, '')] as const);
    return kind === pushed.kind && patternRegExp(key).test(pushed.name);
  });
}

/** Why a webhooks.allow_force_push entry is not accepted, or null. */
export function allowForcePushEntryProblem(entry: string): string | null {
  const key = entry.replace(/^refs\/(heads|tags)\//, '');
  return refPatternProblem(key);
}
