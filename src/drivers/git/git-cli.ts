/**
 * GitFetcher over the `git` program. Fetches only the commit asked for (shallow) and falls
 * back to fetching branches and tags when the remote refuses a shallow fetch of that ref
 * (an abbreviated SHA, or a server that does not serve unadvertised commits). Never
 * prompts: a repository that needs credentials fails with git's message instead of hanging.
 */
import { execFile } from 'node:child_process';
import { SlipwayError } from '../../core/errors';
import type { GitFetcher } from '../../core/ports/git';
import { redactGitUrl } from '../../core/git-source';

const TIMEOUT_MS = 10 * 60 * 1000;
const SUBCOMMANDS = new Set(['init', 'fetch', 'checkout', 'rev-parse', 'ls-remote', 'merge-base', 'cat-file']);
/** History depth isAncestor tries before the whole history: a live commit is usually a few commits back. */
const ANCESTRY_DEPTHS = [64];

interface GitResult {
  stdout: string;
  stderr: string;
}

export class GitCli implements GitFetcher {
  async resolveRef(url: string, ref: string): Promise<string | null> {
    if (/^[0-9a-f]{7,40}$/.test(ref)) return ref;
    const { stdout } = await this.git(['ls-remote', '--', url, ref], url);
    const refs = new Map<string, string>();
    for (const line of stdout.split('\n')) {
      const [sha, name] = line.split('\t');
      if (sha && name) refs.set(name, sha);
    }
    const exact = ref === 'HEAD' ? ['HEAD'] : [`refs/heads/${ref}`, `refs/tags/${ref}^{}`, `refs/tags/${ref}`, ref];
    for (const name of exact) if (refs.has(name)) return refs.get(name)!;
    return null;
  }

  async checkout(url: string, ref: string, dir: string, onLine?: (line: string) => void): Promise<{ commit: string }> {
    await this.git(['init', '-q', dir], url);
    const shallow = await this.git(['-C', dir, 'fetch', '-q', '--depth', '1', '--no-tags', '--', url, ref], url).then(
      () => true,
      () => false,
    );
    let target = 'FETCH_HEAD';
    if (!shallow) {
      onLine?.(`shallow fetch of ${ref} refused; fetching branches and tags`);
      await this.git(['-C', dir, 'fetch', '-q', '--', url, '+refs/heads/*:refs/remotes/origin/*', '+refs/tags/*:refs/tags/*'], url);
      target = await this.resolve(dir, ref, url);
    }
    await this.git(['-C', dir, '-c', 'advice.detachedHead=false', 'checkout', '-q', '--detach', target], url);
    const { stdout } = await this.git(['-C', dir, 'rev-parse', 'HEAD'], url);
    return { commit: stdout.trim() };
  }

  async isAncestor(url: string, ancestor: string, descendant: string, dir: string): Promise<boolean> {
    if (ancestor === descendant) return true;
    await this.git(['init', '-q', '--bare', dir], url);
    const has = (sha: string) => this.git(['-C', dir, 'cat-file', '-e', `${sha}^{commit}`], url).then(() => true, () => false);
    // Only descendant's history is fetched, so ancestor being present means it is an ancestor;
    // merge-base confirms. Deepen step by step: the usual case costs one shallow fetch.
    for (const depth of [...ANCESTRY_DEPTHS, 0]) {
      const deepen = depth ? ['--depth', String(depth)] : (await this.isShallow(dir, url)) ? ['--unshallow'] : [];
      const fetched = await this.git(['-C', dir, 'fetch', '-q', '--no-tags', ...deepen, '--', url, descendant], url).then(() => true, () => false);
      if (!fetched) {
        // The remote will not serve an unadvertised commit: take its branches and tags whole.
        await this.git(['-C', dir, 'fetch', '-q', '--', url, '+refs/heads/*:refs/remotes/origin/*', '+refs/tags/*:refs/tags/*'], url);
        if (!(await has(descendant))) throw new SlipwayError('SLW_BUILD_FAILED', `git: no commit "${descendant}" in ${redactGitUrl(url)}`);
        break;
      }
      if (await has(ancestor)) break;
      if (!(await this.isShallow(dir, url))) return false;
    }
    if (!(await has(ancestor))) return false;
    return this.git(['-C', dir, 'merge-base', '--is-ancestor', ancestor, descendant], url).then(() => true, () => false);
  }

  private async isShallow(dir: string, url: string): Promise<boolean> {
    return (await this.git(['-C', dir, 'rev-parse', '--is-shallow-repository'], url)).stdout.trim() === 'true';
  }

  /** A ref after a full fetch: a remote branch, a tag, or a (possibly abbreviated) commit. */
  private async resolve(dir: string, ref: string, url: string): Promise<string> {
    for (const candidate of [`refs/remotes/origin/${ref}`, `refs/tags/${ref}`, ref]) {
      const found = await this.git(['-C', dir, 'rev-parse', '--verify', '--quiet', `${candidate}^{commit}`], url).then(
        (r) => r.stdout.trim(),
        () => '',
      );
      if (found) return found;
    }
    throw new SlipwayError('SLW_BUILD_FAILED', `git: no branch, tag or commit "${ref}" in ${redactGitUrl(url)}`, [{ path: 'git.ref', message: 'must name a branch, tag or commit of the repository' }]);
  }

  private git(args: string[], url: string): Promise<GitResult> {
    return new Promise((resolve, reject) => {
      execFile(
        'git',
        args,
        {
          timeout: TIMEOUT_MS,
          maxBuffer: 16 * 1024 * 1024,
          env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_SSH_COMMAND: 'ssh -o BatchMode=yes', LC_ALL: 'C' },
        },
        (err, stdout, stderr) => {
          if (!err) return resolve({ stdout, stderr });
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
            return reject(new SlipwayError('SLW_HOST_MISSING', 'git is not installed on the server host (apt-get install git); it is needed to deploy from a repository'));
          }
          const text = (stderr.trim().split('\n').slice(-5).join('\n') || err.message).split(url).join(redactGitUrl(url));
          const sub = args.find((a) => SUBCOMMANDS.has(a)) ?? '';
          reject(new SlipwayError('SLW_BUILD_FAILED', `git ${sub} of ${redactGitUrl(url)} failed: ${text}`));
        },
      );
    });
  }
}
