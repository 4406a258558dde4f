import { type Kysely, type Migration } from 'kysely';

/**
 * The git ref and commit a push webhook deployed (issue 24: branch patterns and tags as
 * triggers): `git_ref` is the pushed ref in full (`refs/heads/release/1.2`, `refs/tags/v1.0.0`),
 * `git_commit` the commit it deploys (an annotated tag peeled). Both null for every other
 * deployment, and for those recorded before this migration.
 */
export const m0027DeploymentGitRef: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('deployments').addColumn('git_ref', 'text').execute();
    await db.schema.alterTable('deployments').addColumn('git_commit', 'text').execute();
  },
};
