/** Fetching a commit of a git repository (deploys from a URL + ref, later webhooks). */
export interface GitFetcher {
  /**
   * Whether the repository answers and has `ref`: the commit a branch or tag points at,
   * null when it has no such branch or tag. A commit SHA is returned as given (only a
   * fetch can tell whether it exists).
   */
  resolveRef(url: string, ref: string): Promise<string | null>;
  /**
   * Checks out `ref` (branch, tag or commit SHA) of `url` into the empty directory `dir`
   * and returns the full commit SHA. `onLine` receives progress worth showing.
   */
  checkout(url: string, ref: string, dir: string, onLine?: (line: string) => void): Promise<{ commit: string }>;
  /**
   * Whether commit `ancestor` is `descendant` or one of its ancestors in `url`, fetching
   * `descendant`'s history into the empty directory `dir` only as deep as needed (false
   * when the whole history lacks it, e.g. a commit of another branch or a rewritten one).
   */
  isAncestor(url: string, ancestor: string, descendant: string, dir: string): Promise<boolean>;
}
