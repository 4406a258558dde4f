/**
 * Rules for git sources (a repository URL, a ref, the path of slipway.yml inside the
 * repository), shared by the API schemas, the CLI and the git driver. URLs carrying a
 * password or token are refused: they would end up in the store and in logs. Credentials
 * belong in the server host's git credential helper or SSH key.
 */

const SCHEMES = ['https', 'http', 'ssh', 'git', 'file'];

function hasControlCharacter(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) < 0x20 || s.charCodeAt(i) === 0x7f) return true;
  return false;
}

/** Why a repository URL is not accepted, or null. */
export function gitUrlProblem(url: string): string | null {
  if (url.trim() === '') return 'must not be empty';
  if (/\s/.test(url) || hasControlCharacter(url)) return 'must not contain spaces or control characters';
  if (url.startsWith('-')) return 'must not start with "-"';
  if (url.length > 2000) return 'must be at most 2000 characters';
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme) {
    if (!SCHEMES.includes(scheme)) return `must use one of ${SCHEMES.map((s) => `${s}://`).join(', ')} (got ${scheme}://)`;
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return 'must be a valid URL';
    }
    if (parsed.password || ((scheme === 'https' || scheme === 'http') && parsed.username)) {
      return 'must not carry credentials (they would be stored and logged): set up a git credential helper or an SSH key for the server host instead';
    }
    return null;
  }
  if (url.startsWith('/')) return null;
  if (/^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s]+$/.test(url)) return null; // scp-like: git@host:org/repo.git
  return 'must be a repository URL such as https://host/org/repo.git, ssh://git@host/org/repo.git, git@host:org/repo.git or an absolute path on the server host';
}

/** Why a ref (branch, tag or commit) is not accepted, or null. */
export function gitRefProblem(ref: string): string | null {
  if (ref === '') return 'must not be empty';
  if (ref.length > 200) return 'must be at most 200 characters';
  if (!/^[A-Za-z0-9._/@+-]+$/.test(ref)) return 'must be a branch, tag or commit SHA (letters, digits and . _ / @ + -)';
  if (ref.startsWith('-') || ref.startsWith('/') || ref.endsWith('/') || ref.includes('..') || ref.includes('//') || ref.endsWith('.lock')) {
    return 'must be a valid git ref name (no leading "-" or "/", no "..")';
  }
  return null;
}

/** Why the directory of slipway.yml inside a repository is not accepted, or null. "" is the root. */
export function repoPathProblem(p: string): string | null {
  if (p.startsWith('/')) return 'must be relative to the repository root';
  if (p.split('/').includes('..')) return 'must stay inside the repository (no "..")';
  if (hasControlCharacter(p)) return 'must not contain control characters';
  return null;
}

/** The URL as it may be shown: any user-info of a scheme URL is masked. */
export function redactGitUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, (_m, scheme: string) => (/^ssh|^git/i.test(scheme) ? _m : `${scheme}***@`));
}

/** The commit SHA recorded in a release's sourceRef (`git:<sha>`), or null. */
export function commitOf(sourceRef: string | null): string | null {
  return sourceRef?.startsWith('git:') ? sourceRef.slice(4) : null;
}

/**
 * The tag suffix users know a build by: the short commit SHA, or the short content hash
 * when the source had no (clean) git commit.
 */
export function sourceTag(sourceRef: string | null): string | null {
  if (!sourceRef) return null;
  const commit = commitOf(sourceRef);
  if (commit) return commit.slice(0, 7);
  if (sourceRef.startsWith('content:')) return sourceRef.slice(8, 20);
  return null;
}
