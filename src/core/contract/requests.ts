/**
 * Request shapes of the HTTP API (bodies, path params, queries), declared once with zod:
 * the server parses with them, the OpenAPI document is generated from them and the
 * client's argument types are their inputs.
 */
import { z } from 'zod';
import { BASE_IMAGE_KINDS } from '../ports/base-images';
import { ENV_NAME_RE } from '../config-schema';
import { EVENT_TYPES, SCOPES } from '../domain';
import { durationProblem, MAX_TIMER_MS, parseDuration } from '../duration';
import { CONFIG_LIMITS } from '../config-limits';
import { imageRefProblem } from '../image-ref';
import { gitRefProblem, gitUrlProblem, repoPathProblem } from '../git-source';
import { SHA256_RE } from '../content-address';
import { IMAGE_PATTERNS_MAX, imagePatternProblem } from '../image-patterns';
import { parseLogSince } from '../log-filters';

const name = z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, { error: 'must be a lowercase name' });

/** The text of slipway.yml: its byte limit is checked by parseProjectConfig; this refuses far larger texts early. */
const configText = z
  .string({ error: 'must be the text of slipway.yml' })
  .min(1, { error: 'must not be empty' })
  .max(CONFIG_LIMITS.bytes, { error: `size limit exceeded: must be at most ${CONFIG_LIMITS.bytes} bytes (${CONFIG_LIMITS.bytes / 1024} KiB) of slipway.yml` });

export const envQuery = z.strictObject({ env: name.default('production') });

const sha256 = z.string({ error: 'must be a sha256 (64 lowercase hex digits)' }).regex(SHA256_RE, { error: 'must be a sha256 (64 lowercase hex digits)' });
const fromRule = (problem: (v: string) => string | null, what: string) =>
  z.string({ error: `must be a string (${what})` }).superRefine((v, ctx) => {
    const p = problem(v);
    if (p) ctx.addIssue({ code: 'custom', message: p });
  });

/** The key of an upload: a service, or `<service>:release` for the image its release command runs in. */
const sourceKey = z.string().regex(/^[a-z][a-z0-9-]{0,39}(:release)?$/, { error: 'must be a service name, or "<service>:release" for its release image' });

/** A build context already uploaded with PUT /api/v1/projects/:project/sources/:sha256. */
const archiveSource = z.strictObject({
  sha256,
  commit: z.string().regex(/^[0-9a-f]{40}$/, { error: 'must be a full commit SHA (40 hex digits)' }).nullable().default(null)
    .describe('the commit of a clean git checkout the archive was packed from'),
});

export const gitSource = z.strictObject({
  url: fromRule(gitUrlProblem, 'the repository URL'),
  ref: fromRule(gitRefProblem, 'a branch, tag or commit').default('HEAD'),
  path: fromRule(repoPathProblem, 'the directory of slipway.yml in the repository').default(''),
});

export const deployBody = z
  .strictObject({
    config: configText,
    services: z.array(name, { error: 'must be a list of service names' }).optional(),
    env: name.default('production'),
    sources: z.record(sourceKey, archiveSource, { error: 'must map service names to uploaded build contexts' }).default({})
      .describe('per built service: the uploaded context it builds from; "<service>:release" for its release image (release: { build })'),
    git: gitSource.optional().describe('build every built service from this repository and ref instead'),
    image: fromRule(imageRefProblem, 'an image reference').optional()
      .describe('deploy this prebuilt image to the selected services instead of their build/image'),
    allowDestructive: z.boolean({ error: 'must be true or false' }).default(false)
      .describe('production: run the release command even when the migration lint finds destructive or locking statements (the findings are logged; the request is audited)'),
  })
  .refine((b) => !(b.git && Object.keys(b.sources).length > 0), { error: 'give either sources (uploaded contexts) or git, not both', path: ['git'] })
  .refine((b) => !(b.image && (b.git || Object.keys(b.sources).length > 0)), { error: 'a prebuilt image needs no sources or git', path: ['image'] });

export const rollbackBody = z.strictObject({
  env: name.default('production'),
  release: z.number({ error: 'must be a release number' }).int().min(1, { error: 'must be 1 or more' }).optional()
    .describe('the release to return to (default: the newest one before the live release that went live)'),
  force: z.boolean({ error: 'must be true or false' }).optional()
    .describe('roll back to a named release even if it never went live (its deployment failed or was cancelled)'),
});

/** Deploy the live release again (its config, the newest secrets), with its image or another prebuilt one on the host. */
export const redeployBody = z.strictObject({
  env: name.default('production'),
  image: fromRule(imageRefProblem, 'an image reference').optional()
    .describe('a prebuilt image on the server host to run instead of the live one (default: the live image)'),
});

/** Run the live release with another replica count, nothing else changed (`slipway scale`). */
export const scaleBody = z.strictObject({
  env: name.default('production'),
  replicas: z.number({ error: 'must be a whole number from 1 to 100' }).int({ error: 'must be a whole number from 1 to 100' }).min(1, { error: 'must be a whole number from 1 to 100' }).max(100, { error: 'must be a whole number from 1 to 100' })
    .describe('the replica count to run'),
});

/** Replace every replica of the live release, one by one (`slipway restart`). */
export const restartBody = z.strictObject({
  env: name.default('production'),
});

/** Run no replica of the live release, keeping its config and releases (`slipway stop`); `slipway start` runs them again. */
export const stopBody = z.strictObject({
  env: name.default('production'),
});

/** A stopped service back to the replica count it ran before `slipway stop`. */
export const startBody = z.strictObject({
  env: name.default('production'),
});

export const projectParams = z.strictObject({ project: name });
export const serviceParams = z.strictObject({ project: name, service: name });
export const deploymentParams = z.strictObject({ id: z.string().uuid({ error: 'must be a deployment id (uuid)' }) });

export const deploymentsQuery = z.strictObject({
  env: name.default('production'),
  service: name.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(20),
});

export const afterQuery = z.strictObject({ after: z.coerce.number().int().min(0).default(0) });

export const baseImageBody = z.strictObject({
  kind: z.enum(BASE_IMAGE_KINDS, { error: `must be one of: ${BASE_IMAGE_KINDS.join(', ')}` }),
  force: z.boolean().default(false),
});

const envName = z.string().regex(ENV_NAME_RE, { error: 'must be an environment name: lowercase letters, digits and "-" (production, staging, preview-<name>)' });
export const environmentBody = z.strictObject({ name: envName });
export const environmentParams = z.strictObject({ project: name, env: envName });
export const projectDeleteQuery = z.strictObject({
  confirm: z.string({ error: 'must repeat the project name to confirm the deletion' }),
});
export const destroyQuery = z.strictObject({
  confirm: z.string({ error: 'must repeat the environment name to confirm the destruction' }),
  deleteVolumes: z.enum(['true', 'false', '1', '0'], { error: 'must be true or false' }).default('false').transform((v) => v === 'true' || v === '1')
    .describe("also delete the environment's volumes (accessories' data): irreversible; default keeps them"),
});

export const runBody = z.strictObject({
  env: name.default('production'),
  argv: z.array(z.string().min(1, { error: 'must not be empty' }), { error: 'must be the command as a list of arguments' }).min(1, { error: 'must have at least the program to run' }),
  timeout: z
    .string({ error: 'must be a duration such as "30s" or "10m"' })
    .superRefine((v, ctx) => {
      // Timers beyond 24d fire at once (setTimeout): a longer timeout would kill the run immediately.
      const problem = durationProblem(v, MAX_TIMER_MS, '"30s" or "10m"');
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .default('1h')
    .transform((v) => parseDuration(v)!),
});

/** Secret values are only ever checked for type: an error must never quote one. */
export const secretsChangeBody = z.strictObject({
  set: z.record(z.string(), z.string({ error: 'must be a string value' }), { error: 'must be an object of NAME: value' }).default({}),
  unset: z.array(z.string(), { error: 'must be a list of names' }).default([]),
  deploy: z.boolean({ error: 'must be true or false' }).default(true),
});

export const promoteBody = z.strictObject({
  config: configText,
  from: name,
  to: name.default('production'),
  services: z.array(name, { error: 'must be a list of service names' }).optional(),
  allowDestructive: z.boolean({ error: 'must be true or false' }).default(false)
    .describe('production: run the release command even when the migration lint finds destructive or locking statements (audited)'),
});

export const jobsQuery = z.strictObject({
  env: name.default('production'),
  service: name.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(20),
});
export const jobRunParams = z.strictObject({ id: z.coerce.number({ error: 'must be a job run number' }).int().min(1) });

/** A build context of a project (archives are kept per project). */
export const sourceParams = z.strictObject({ project: name, sha256 });

const imagePattern = fromRule(imagePatternProblem, 'an image reference or pattern');
/** Images (or patterns, `*` = any characters) project-restricted tokens may deploy. */
export const allowImagesBody = z.strictObject({
  images: z.array(imagePattern, { error: 'must be a list of image references or patterns' })
    .min(1, { error: 'must name at least one image' })
    .max(IMAGE_PATTERNS_MAX, { error: `must name at most ${IMAGE_PATTERNS_MAX} images` }),
});
export const disallowImageQuery = z.strictObject({ image: imagePattern.describe('the reference or pattern to remove, as listed') });

const scope = z.enum(SCOPES, { error: `must be one of: ${SCOPES.join(', ')}` });
const durationText = (what: string) =>
  z.string({ error: `must be a duration such as "30d", "12h" or "90m" (${what})` }).refine((v) => parseDuration(v) !== null, {
    error: `must be a duration such as "30d", "12h" or "90m" (${what})`,
  });

/** The longest a token may live (docs/access.md): more is a typo, and a far enough expiry is no valid date at all. */
export const MAX_TOKEN_LIFETIME_DAYS = 3650;
export const MAX_TOKEN_LIFETIME_MS = MAX_TOKEN_LIFETIME_DAYS * 86_400_000;
const tokenLifetime = (what: string) => {
  // One message for both refusals: "1000000000000000d" is a duration to its writer, however it is parsed.
  const error = `must be a duration of at most ${MAX_TOKEN_LIFETIME_DAYS}d (10 years) such as "30d", "12h" or "90m" (${what})`;
  return z.string({ error }).refine((v) => {
    const ms = parseDuration(v);
    return ms !== null && ms <= MAX_TOKEN_LIFETIME_MS;
  }, { error });
};

export const loginBody = z.strictObject({
  user: z.string({ error: 'must be the user name' }).min(1, { error: 'must not be empty' }).max(100),
  password: z.string({ error: 'must be the password' }).min(1, { error: 'must not be empty' }).max(1000),
  tokenName: z.string().min(1).max(100).optional(),
  expiresIn: tokenLifetime('how long the token stays valid; default 30d').optional(),
});

/** Dashboard sign-in: a user's password, or an existing token pasted in. */
export const sessionBody = z
  .strictObject({
    user: z.string({ error: 'must be the user name' }).min(1, { error: 'must not be empty' }).max(100).optional(),
    password: z.string({ error: 'must be the password' }).min(1, { error: 'must not be empty' }).max(1000).optional(),
    token: z.string({ error: 'must be an API token' }).min(1, { error: 'must not be empty' }).max(200).optional(),
  })
  .refine((b) => (b.token === undefined) !== (b.user === undefined && b.password === undefined), { error: 'give either user and password, or token', path: ['token'] })
  .refine((b) => b.token !== undefined || (b.user !== undefined && b.password !== undefined), { error: 'user and password go together', path: ['password'] });

export const tokenBody = z.strictObject({
  name: z.string({ error: 'must be a name for the token (what uses it)' }).min(1, { error: 'must not be empty' }).max(100),
  scope,
  project: name.optional(),
  expiresIn: tokenLifetime('how long the token stays valid; default: never expires').optional(),
});

export const tokenParams = z.strictObject({ id: z.string().regex(/^tok_[a-z0-9_]+$/, { error: 'must be a token id (tok_…)' }) });

export const userBody = z.strictObject({
  name: z.string({ error: 'must be the user name' }),
  password: z.string({ error: 'must be the password (at least 12 characters)' }),
  scope: scope.default('deploy'),
});

export const userParams = z.strictObject({ name: z.string().min(1).max(100) });

export const auditQuery = z.strictObject({
  project: name.optional(),
  since: durationText('how far back, e.g. 1h').optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export const webhookBody = z.strictObject({
  repository: z.string({ error: 'must be the git URL the server fetches pushed commits from' }),
  path: z.string({ error: 'must be the directory of slipway.yml in the repository' }).default(''),
});

const pem = (what: string) => z.string({ error: `must be the ${what} as PEM text` }).min(1, { error: `must be the ${what} as PEM text` }).max(64 * 1024, { error: `must be at most 64 KiB of PEM (the ${what})` });
const hostName = z
  .string({ error: 'must be a host name' })
  .regex(/^(?=.{1,253}$)(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/, { error: 'must be a lowercase host name such as "app.example.com"' });

export const certificateParams = z.strictObject({ domain: hostName });
export const ownCertificateBody = z.strictObject({
  domain: hostName,
  cert: pem('certificate chain (leaf first)'),
  key: pem('private key'),
});

export const notificationTargetBody = z.strictObject({
  kind: z.enum(['webhook', 'slack'], { error: 'must be "webhook" (JSON, HMAC-signed) or "slack" (incoming webhook)' }).default('webhook'),
  url: z.string({ error: 'must be the http(s) URL to POST events to' }).url({ error: 'must be an http(s) URL' }),
  project: name.optional(),
  events: z.array(z.enum(EVENT_TYPES, { error: `must be among ${EVENT_TYPES.join(', ')}` })).default([]),
});

export const notificationTargetParams = z.strictObject({ id: z.string().regex(/^ntf_[0-9a-f]+$/, { error: 'must be a target id (ntf_…)' }) });

export const deliveriesQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(500).default(50) });

/** An environment's accessories (`/envs/:env/accessories`). */
export const accessoriesParams = z.strictObject({ project: name, env: envName });
export const accessoryParams = z.strictObject({ project: name, env: envName, name: name.describe('the accessory (its name under accessories: in slipway.yml)') });

const boolFlag = z.enum(['true', 'false', '1', '0'], { error: 'must be true or false' }).default('false').transform((v) => v === 'true' || v === '1');

/** An accessory's container log: the same window as service logs (tail, follow, since). */
export const accessoryLogsQuery = z.strictObject({
  tail: z.coerce.number().int({ error: 'must be a whole number of lines' }).min(0, { error: 'must be 0 or more' }).max(10_000, { error: 'must be at most 10000' }).optional()
    .describe('last lines; default 100, or every line when since is given'),
  follow: boolFlag.describe('keep streaming (across restarts of the accessory)'),
  since: z
    .string()
    .transform((v, ctx) => {
      const iso = parseLogSince(v);
      if (iso === null) {
        ctx.addIssue({ code: 'custom', message: 'must be a duration back from now (30s, 10m, 2h) or an ISO time (2025-01-31T12:00:00Z)' });
        return z.NEVER;
      }
      return iso;
    })
    .optional()
    .describe('only lines written since: a duration back from now (10m) or an ISO time'),
});

/**
 * `slipway db shell`: SQL run by psql as the database owner; never logged or audited (only the
 * statement count). It reaches psql as one environment variable: Linux caps one at 128 KiB.
 */
export const MAX_SQL_BYTES = 100 * 1024;
export const sqlBody = z.strictObject({
  sql: z
    .string({ error: 'must be the SQL to run (text)' })
    .min(1, { error: 'must not be empty' })
    // Bytes, not characters: the variable's limit is in bytes (UTF-8), and é is two of them.
    .refine((v) => new TextEncoder().encode(v).length <= MAX_SQL_BYTES, { error: `size limit exceeded: must be at most ${MAX_SQL_BYTES} bytes of SQL (UTF-8)` })
    .refine((v) => !v.includes('\0'), { error: 'must not contain a NUL character (the SQL travels in an environment variable, which cannot hold one)' })
    .refine((v) => v.trim().length > 0, { error: 'must not be blank' }),
  timeout: z
    .string({ error: 'must be a duration such as "30s" or "10m"' })
    .superRefine((v, ctx) => {
      const problem = durationProblem(v, MAX_TIMER_MS, '"30s" or "10m"');
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .default('10m')
    .transform((v) => parseDuration(v)!),
});

/** Volumes Slipway created; a project-restricted token sees its project's only. */
export const volumesQuery = z.strictObject({
  project: name.optional(),
  env: envName.optional(),
});

/** `slipway backups`: an environment's backups, newest first. */
export const backupsQuery = z.strictObject({
  accessory: name.optional().describe('only this accessory'),
  limit: z.coerce.number().int({ error: 'must be a whole number' }).min(1, { error: 'must be between 1 and 1000' }).max(1000, { error: 'must be between 1 and 1000' }).default(50),
  expired: boolFlag.describe('include backups retention removed'),
  deployment: deploymentParams.shape.id.optional().describe('only the backups taken before this deployment\'s release command'),
});
export const backupParams = z.strictObject({ id: z.string().regex(/^[0-9a-f-]{36}$/, { error: 'must be a backup id (a UUID, as `slipway backups` lists)' }) });
export const backupBody = z.strictObject({
  type: z.enum(['full', 'diff'], { error: 'must be "full" or "diff"' }).optional().describe('default: full when there is no full backup within backup.full_every, else differential'),
});
export const restoreBody = z
  .strictObject({
    backup: backupParams.shape.id.optional().describe('restore this backup (its restore point)'),
    toTime: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 time with a zone, e.g. 2026-12-07T10:30:00Z' }).optional().describe('restore to this moment (point in time, from the WAL archive)'),
    inPlace: z.boolean({ error: 'must be true or false' }).default(false).describe('replace the live accessory (its users are stopped, a backup of the current state is taken first)'),
  })
  .refine((b) => (b.backup === undefined) !== (b.toTime === undefined), { error: 'give exactly one of backup (an id) or toTime (an ISO time)', path: ['backup'] });

/** Removing one accessory: its volumes only when asked. */
export const accessoryRemoveQuery = z.strictObject({
  deleteVolumes: z.enum(['true', 'false', '1', '0'], { error: 'must be true or false' }).default('false').transform((v) => v === 'true' || v === '1')
    .describe("also delete its volumes (its data, and its backup repository): irreversible; default keeps them"),
});
