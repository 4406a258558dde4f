/**
 * The written form of slipway.yml (what users type). `normalize-config.ts` turns it
 * into the normalized form the engine uses (durations in ms, defaults filled in).
 * Field descriptions double as the configuration reference and the JSON Schema.
 */
import { z } from 'zod';
import { parseCron } from './cron';
import { durationProblem, formatDuration, MAX_SPAN_MS, MAX_TIMER_MS, parseDuration } from './duration';
import { gitUrlProblem } from './git-source';
import { allowForcePushEntryProblem, refPatternProblem } from './ref-triggers';
import { imageRefProblem } from './image-ref';
import { accessoryProblems, defaultDatabaseProblem, RESERVED_DATABASES } from './accessory-config';
import { memoryProblem } from './parse-size';
import { serviceAlertRulesSchema } from './alert-rules';

const NAME_RE = /^[a-z][a-z0-9-]{0,30}[a-z0-9]$|^[a-z]$/;
/** Environment names (declared early: the top-level schema uses it before ENV_NAME_RE is exported). */
const ENV_NAME_RE_INLINE = /^[a-z][a-z0-9-]{0,39}$/;

const name = (what: string) =>
  z
    .string({ error: `must be a string (the ${what} name)` })
    .regex(NAME_RE, {
      error: `must be a lowercase name of letters, digits and "-", starting with a letter, at most 32 characters`,
    });

/** A duration some timer waits on: at most 24d (setTimeout fires at once beyond ≈24.8 days). */
const durationValue = (example = '"500ms", "2s" or "1m"', maxMs = MAX_TIMER_MS) =>
  z.union([z.string(), z.number()], { error: `must be a duration such as ${example}` }).superRefine((v, ctx) => {
    const problem = durationProblem(v, maxMs, example);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

const duration = (defaultValue: string, what: string) => durationValue().default(defaultValue).describe(what);

/** An image reference, checked against Docker's grammar (a newline or space never reaches Docker). */
const imageRef = (error: string) =>
  z.string({ error }).superRefine((v, ctx) => {
    const problem = imageRefProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

const domain = z
  .string({ error: 'must be a string (a host name)' })
  .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/, {
    error: 'must be a lowercase host name such as "app.example.com" (no scheme, port or path)',
  });

/** A whole number within bounds, with messages that say so. */
const wholeNumber = (min: number, max?: number) => {
  let n = z.number({ error: 'must be a whole number' }).int({ error: 'must be a whole number' });
  n = n.min(min, { error: max === undefined ? `must be ${min} or more` : `must be between ${min} and ${max}` });
  return max === undefined ? n : n.max(max, { error: `must be between ${min} and ${max}` });
};

/** One argument of a command: Docker and execve take C strings, so a NUL would cut it (or fail the deploy). */
const argvElement = (allowEmpty = false) => {
  const s = z.string({ error: 'must be a string' });
  return (allowEmpty ? s : s.min(1, { error: 'must not be empty' })).refine((v) => !v.includes('\0'), { error: 'must not contain a NUL character (a command argument cannot hold one)' });
};

/** A command as an argv list: never a shell string. `allowEmpty`: "" is a valid argument (a service's `command`). */
const argv = (example: string, allowEmpty = false) =>
  z
    .array(argvElement(allowEmpty), { error: `must be a command as a list of arguments, e.g. ${example}` })
    .min(1, { error: 'must have at least the program to run' });

/** A URL path the edge can carry in its config (no space, quote, `#`, `$` or backslash). */
export const CHECK_PATH = /^\/[A-Za-z0-9\-._~!&()*+,;=:@%/?]*$/;
const CHECK_PATH_ERROR = 'must be a URL path such as "/health" (letters, digits and - . _ ~ ! & ( ) * + , ; = : @ % / ? only)';

export const healthSchema = z
  .strictObject({
    path: z
      .string({ error: 'must be a string' })
      .startsWith('/', { error: 'must start with "/"' })
      .regex(CHECK_PATH, { error: CHECK_PATH_ERROR })
      .default('/')
      .describe('HTTP path the engine probes, and the edge checks on live replicas; any 2xx/3xx answer counts as a success'),
    interval: duration('1s', 'time between probes'),
    timeout: duration('2s', 'time one probe may take'),
    grace: duration('0s', 'wait after the container starts before the first probe'),
    successes: wholeNumber(1, 20)
      .default(2)
      .describe('consecutive successful probes needed before the replica gets traffic'),
    deadline: duration('60s', 'how long a new replica may take to become ready before the deployment fails'),
    fall: wholeNumber(1, 20)
      .default(3)
      .describe('consecutive failed edge checks (every interval, on path) that take a live replica out of rotation'),
    rise: wholeNumber(1, 20)
      .default(2)
      .describe('consecutive successful edge checks that put a replica taken out by its checks back in rotation'),
    replace_after: duration('60s', 'a live replica out of rotation (failing its edge checks) this long is replaced by a repair'),
    liveness: z
      .string({ error: 'must be a string' })
      .startsWith('/', { error: 'must start with "/"' })
      .regex(CHECK_PATH, { error: CHECK_PATH_ERROR })
      .nullable()
      .default(null)
      .describe('optional HTTP path the control plane probes on every live replica each interval; a replica failing it fall times in a row is replaced (services with a port only)'),
    kind: z
      .enum(['http', 'tcp', 'exec'], { error: 'must be "http" (GET path), "tcp" (connect to the port) or "exec" (run command in the container; exit 0 = ready)' })
      .optional()
      .describe('how readiness and the edge checks probe: http (default) GETs path; tcp connects to the port; exec runs command inside the container (default: exec when command is set)'),
    command: argv('["pg_isready", "-q"]')
      .optional()
      .describe('exec: argv run inside the container; exit 0 = ready'),
  })
  .describe('readiness probing done by the engine itself (a running container is not ready until it answers), then continuous checks of live replicas at the edge');

/** Weight: percent of new requests; 100 is not a step (promotion is). */
const canaryStepSchema = z.strictObject({
  weight: wholeNumber(1, 99).describe('percent of new requests the canary release gets during this step'),
  pause: duration('60s', 'how long this step lasts (analysis runs every analysis.interval during it)'),
});

const ratio = (what: string) => z.number({ error: 'must be a number between 0 and 1' }).min(0, { error: 'must be between 0 and 1' }).max(1, { error: 'must be between 0 and 1' }).describe(what);

export const canaryAnalysisSchema = z
  .strictObject({
    interval: duration('10s', 'length of one analysis window; a verdict is taken at the end of each'),
    min_requests: wholeNumber(1)
      .default(50)
      .describe('a window with fewer canary requests than this is inconclusive (not judged)'),
    max_error_rate: ratio('a window fails when the canary answers more than this share of its requests with a 5xx').default(0.05),
    max_error_rate_increase: ratio('a window fails when the canary 5xx share exceeds the stable release\'s over the same window by more than this').default(0.02),
    max_p99: durationValue('"500ms"')
      .optional()
      .describe('a window fails when the canary p99 latency exceeds this (no absolute limit when absent)'),
    max_p99_ratio: z
      .number({ error: 'must be a number of 1 or more' })
      .min(1, { error: 'must be 1 or more' })
      .default(2)
      .describe('a window fails when the canary p99 exceeds the stable p99 over the same window by this factor (and by more than p99_tolerance)'),
    p99_tolerance: durationValue('"50ms"')
      .default('50ms')
      .describe('p99 differences from the stable release smaller than this never fail a window (with few requests, p99 is the slowest one: a GC pause)'),
    failure_limit: wholeNumber(1, 100).default(1).describe('failing windows that abort the canary'),
  })
  .describe('canary analysis: judged per window, over the canary release and the stable release');

/** A duration from `minMs` to `maxMs`. */
const durationBetween = (minMs: number, maxMs: number, example: string) =>
  durationValue(example, maxMs).superRefine((v, ctx) => {
    const ms = parseDuration(v as string | number);
    if (ms !== null && ms < minMs) ctx.addIssue({ code: 'custom', message: `must be at least ${formatDuration(minMs)}` });
  });

const httpStatus = z
  .number({ error: 'must be an HTTP status 100–599' })
  .int({ error: 'must be an HTTP status 100–599' })
  .min(100, { error: 'must be an HTTP status 100–599' })
  .max(599, { error: 'must be an HTTP status 100–599' });

const smokeRequestSchema = z.strictObject({
  path: z
    .string({ error: 'must be a string' })
    .startsWith('/', { error: 'must start with "/"' })
    .regex(CHECK_PATH, { error: CHECK_PATH_ERROR })
    .describe('URL path (and query) requested with GET through the edge, with the service\'s first domain as Host'),
  expect: httpStatus.optional().describe('the status the answer must have (default: any 2xx)'),
  expect_body: z
    .string({ error: 'must be a string' })
    .min(1, { error: 'must not be empty' })
    .max(1024, { error: 'must be at most 1024 characters' })
    .optional()
    .describe('text the answer\'s body must contain (the first 64 KiB are read)'),
});

export const smokeSchema = z
  .strictObject({
    requests: z
      .array(smokeRequestSchema, { error: 'must be a list of requests such as [{ path: /api/health, expect: 200 }]' })
      .min(1, { error: 'must have at least one request' })
      .max(20, { error: 'must have at most 20 requests' })
      .describe('sent once right after traffic moved, then every interval until the window ends; one wrong answer fails the check'),
    through: z
      .enum(['edge'], { error: 'must be "edge" (the requests go through the edge, as clients\' do)' })
      .default('edge')
      .describe('where the requests go: edge (the only value) — through this server\'s edge with the service\'s first domain as Host'),
    window: durationBetween(0, 10 * 60_000, '"60s"').default('60s').describe('how long after traffic moved the requests repeat and the new release\'s live error rate and p99 are watched (at most 10m; 0s: one round)'),
    interval: durationBetween(100, 10 * 60_000, '"5s"').default('5s').describe('time between two rounds of the requests'),
    timeout: durationBetween(100, 60_000, '"5s"').default('5s').describe('how long one request may take before it counts as failed'),
    rollback: z.boolean({ error: 'must be true or false' }).default(true).describe('a failure rolls back to the previous release (warm set for blue-green); false: the deployment is marked failed and the release stays live'),
    max_error_rate: ratio('the check fails when the new release answers more than this share of its live requests with a 5xx over the window').default(0.05),
    max_p99: durationValue('"500ms"').optional().describe('the check fails when the new release\'s live p99 latency over the window exceeds this (no limit when absent)'),
    min_requests: wholeNumber(1)
      .default(20)
      .describe('live figures with fewer requests than this are not judged (the requests alone decide)'),
  })
  .describe('post-deploy smoke checks: after traffic moved, requests through the edge and the live error rate and p99 of the new release; a failure rolls back');

const deployBaseShape = {
    strategy: z
      .enum(['rolling', 'recreate', 'blue-green', 'canary'], { error: 'must be "rolling", "recreate", "blue-green" or "canary"' })
      .default('rolling')
      .describe(
        'rolling: new replicas ready before old ones stop; recreate: stop every old replica first (singletons that must never overlap; a web service has a gap); ' +
          'blue-green (web services): start the whole new set, flip all traffic at once, keep the old set warm for keep_warm (rollback in that window is a flip back); ' +
          'canary (web services): a few replicas of the new release get a growing share of requests (steps) while analysis compares them with the live release; a failing analysis aborts and rolls back',
      ),
    steps: z
      .array(canaryStepSchema, { error: 'must be a list of steps such as [{ weight: 10, pause: 60s }, { weight: 50, pause: 60s }]' })
      .min(1, { error: 'must have at least one step' })
      .max(20, { error: 'must have at most 20 steps' })
      .refine((steps) => steps.every((st, i) => i === 0 || st.weight > steps[i - 1]!.weight), { error: 'weights must increase from one step to the next' })
      .default([
        { weight: 10, pause: '60s' },
        { weight: 50, pause: '60s' },
      ])
      .describe('canary: the share of new requests (percent) the new release gets at each step, and how long each step lasts before the next; after the last step the new release is promoted to all replicas'),
    analysis: canaryAnalysisSchema.default(canaryAnalysisSchema.parse({})),
    keep_warm: duration('5m', 'blue-green: how long the previous set keeps running out of rotation after the flip, for an instant rollback; 0s retires it at once'),
    max_surge: wholeNumber(0)
      .default(1)
      .describe('replicas started above the desired count during a deploy'),
    max_unavailable: wholeNumber(0)
      .default(0)
      .describe('replicas that may be missing below the desired count during a deploy'),
    drain_timeout: duration('30s', 'how long to wait for in-flight requests of a drained replica'),
    stop_timeout: duration('10s', 'time between SIGTERM and SIGKILL'),
    smoke: smokeSchema.nullable().optional(),
};

export const deploySchema = z
  .strictObject(deployBaseShape)
  .refine((d) => d.max_surge + d.max_unavailable >= 1, {
    error: 'max_surge and max_unavailable cannot both be 0 (the deploy could never progress)',
    path: ['max_surge'],
  })
  .describe('rollout settings');

export const httpsSchema = z
  .strictObject({
    redirect: z
      .boolean({ error: 'must be true or false' })
      .optional()
      .describe('redirect plain HTTP to HTTPS once a certificate covers the domain; default: on for ACME and own certificates, off for the local development CA'),
    hsts: z
      .union([z.literal(false), z.string(), z.number()], { error: 'must be false or a max-age duration such as "365d"' })
      .superRefine((v, ctx) => {
        if (v === false) return;
        const ms = parseDuration(v);
        if (ms === null || ms < 1000) ctx.addIssue({ code: 'custom', message: 'must be false or a max-age duration of at least 1s, such as "365d"' });
        else if (ms > MAX_SPAN_MS) ctx.addIssue({ code: 'custom', message: durationProblem(v, MAX_SPAN_MS)! });
      })
      .default(false)
      .describe('send Strict-Transport-Security with this max-age over HTTPS; false: none'),
    hsts_include_subdomains: z.boolean({ error: 'must be true or false' }).default(false).describe('add includeSubDomains to Strict-Transport-Security'),
  })
  .describe('HTTPS at the edge for this service\'s domains');

export const buildSchema = z
  .strictObject({
    context: z.string({ error: 'must be a path (relative to slipway.yml)' }).min(1).default('.').describe('build context directory'),
    dockerfile: z.string({ error: 'must be a path (relative to the context)' }).min(1).default('Dockerfile').describe('Dockerfile inside the context'),
    args: z.record(z.string(), z.string({ error: 'must be a string' })).default({}).describe('build arguments (ARG)'),
  })
  .describe('build the image from a directory');

export const retentionSchema = z
  .strictObject({
    releases: wholeNumber(1, 1000)
      .default(10)
      .describe('after each successful deployment, images of releases older than the newest this many are removed (unless live, warm, canary, pending or used by a kept release of another environment or project); a rollback to a pruned release needs a redeploy --image or a rebuild'),
  })
  .describe('disk retention of release images');

/** Names of environment variables (and so of secrets). */
export const VAR_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Variables Slipway sets in every container itself (src/engine/replica-env.ts): a value here would be overridden. */
export const RESERVED_ENV_RE = /^(PORT|SLIPWAY_.*)$/;
const envKey = z
  .string()
  .regex(VAR_NAME_RE, { error: 'must be a valid environment variable name' })
  .refine((k) => !RESERVED_ENV_RE.test(k), { error: 'is set by Slipway itself (PORT and SLIPWAY_* are reserved); choose another name' });
/** Docker passes env as C strings: a NUL would cut the value or fail the deployment. */
const envValue = z
  .union([z.string(), z.number(), z.boolean()], { error: 'must be a string, number or boolean' })
  .refine((v) => typeof v !== 'string' || !v.includes('\0'), { error: 'must not contain a NUL character (environment variables cannot hold one)' });

/** Longest mount path (Linux's PATH_MAX). */
export const MAX_MOUNT_PATH_BYTES = 4096;
/** The kernel's filesystems: a volume over them would hide them from the process (or fail to start). */
const KERNEL_MOUNT_RE = /^\/(proc|sys|dev)(\/|$)/;

/** Where a volume is mounted: an absolute path Docker's mount syntax cannot misread, without `.`/`..`. */
const mountPath = z
  .string({ error: 'must be an absolute path inside the container, such as "/data"' })
  .superRefine((p, ctx) => {
    const normal = p.replace(/\/+/g, '/');
    const problem = new TextEncoder().encode(p).length > MAX_MOUNT_PATH_BYTES
      ? `must be at most ${MAX_MOUNT_PATH_BYTES} bytes long`
      : !p.startsWith('/')
        ? 'must be an absolute path inside the container, such as "/data"'
        : /[:,\0\n\r]/.test(p)
          ? 'must not contain ":", ",", a NUL or a line break'
          : p.split('/').some((seg) => seg === '..' || seg === '.')
            ? 'must not contain "." or ".." segments'
            : /^\/+$/.test(p)
              ? 'must not be "/" (mount a volume on a directory)'
              : KERNEL_MOUNT_RE.test(normal)
                ? `must not be /proc, /sys or /dev or a path under them (the kernel's filesystems; got "${normal}")`
                : null;
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  // `/data/` and `/data` are one mount point (duplicates are found on this form).
  .transform((p) => p.replace(/\/+/g, '/').replace(/\/$/, ''));

const volumeObject = z.strictObject({
  name: name('volume'),
  path: mountPath,
  read_only: z.boolean({ error: 'must be true or false' }).default(false),
});

/** `data:/var/lib/data`, `data:/var/lib/data:ro` (or `:rw`). */
const volumeString = z
  .string()
  .transform((v, ctx): z.input<typeof volumeObject> => {
    const parts = v.split(':');
    const mode = parts.length === 3 ? parts[2] : undefined;
    if (parts.length < 2 || parts.length > 3 || (mode !== undefined && mode !== 'ro' && mode !== 'rw')) {
      ctx.addIssue({ code: 'custom', message: 'must be "name:/path" or "name:/path:ro" (a volume name, the absolute path it is mounted at, and ":ro" for read-only)' });
      return z.NEVER;
    }
    return { name: parts[0]!, path: parts[1]!, read_only: mode === 'ro' };
  })
  .pipe(volumeObject);

export const volumesSchema = z
  .array(z.union([volumeString, volumeObject], { error: 'must be "name:/path" (":ro" for read-only) or { name, path, read_only }' }), {
    error: 'must be a list of volumes such as ["data:/var/lib/data"]',
  })
  .superRefine((vols, ctx) => {
    const seen = { name: new Map<string, number>(), path: new Map<string, number>() };
    vols.forEach((v, i) => {
      const n = seen.name.get(v.name);
      const p = seen.path.get(v.path);
      if (n !== undefined) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `volume "${v.name}" is already mounted by item ${n} (mount each volume once)` });
      else if (p !== undefined) ctx.addIssue({ code: 'custom', path: [i, 'path'], message: `"${v.path}" is already the mount point of item ${p} (one volume per path)` });
      seen.name.set(v.name, i);
      seen.path.set(v.path, i);
    });
  })
  .describe('named volumes, kept across deploys and recreations (deleted only by `slipway env destroy NAME --delete-volumes --yes`, or an accessory\'s by `slipway accessories remove NAME --delete-volumes --yes`): "name:/path", "name:/path:ro" or { name, path, read_only }');

export const resourcesSchema = z
  .strictObject({
    memory: z
      .union([z.string(), z.number()], { error: 'must be a memory size such as "512m" or "1g" (or a number of bytes)' })
      .superRefine((v, ctx) => {
        const problem = memoryProblem(v);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .optional()
      .describe('memory limit: "512m", "1g" (binary units, as docker run --memory) or bytes; at least 6m. A container that exceeds it is killed by the kernel (reported as OOM-killed)'),
    cpus: z
      .number({ error: 'must be a number of CPUs such as 0.5 or 2' })
      .min(0.01, { error: 'must be between 0.01 and 256 (CPUs; 0.5 is half a core)' })
      .max(256, { error: 'must be between 0.01 and 256 (CPUs; 0.5 is half a core)' })
      .optional()
      .describe('CPU limit in CPUs (0.5: half a core), as docker run --cpus'),
  })
  .describe("Docker's resource limits of each container");

/** A variable a `uses:` entry gives (same rules as `env` keys). */
const useVarName = z
  .string({ error: 'must be an environment variable name such as DATABASE_URL' })
  .regex(VAR_NAME_RE, { error: 'must be an environment variable name such as DATABASE_URL' })
  .refine((k) => !RESERVED_ENV_RE.test(k), { error: 'is set by Slipway itself (PORT and SLIPWAY_* are reserved); choose another name' });

export const usesSchema = z
  .union(
    [
      z.array(name('accessory')).superRefine((names, ctx) => {
        names.forEach((n, i) => {
          if (names.indexOf(n) !== i) ctx.addIssue({ code: 'custom', path: [i], message: `"${n}" is listed twice` });
        });
      }),
      z.record(
        name('accessory'),
        z
          .strictObject({ url: useVarName.optional().describe('the variable that carries the connection URL (default: DATABASE_URL, REDIS_URL, NATS_URL; a container gets host:port only under a name given here)') })
          .nullable(),
      ),
    ],
    { error: 'must be a list of accessory names such as [db, cache], or a map such as { db: { url: PRIMARY_DATABASE_URL } }' },
  )
  .describe('accessories this service reaches: it gets their connection variables (DATABASE_URL, REDIS_URL, NATS_URL) like secrets, and starts only once they are ready');

export const releaseSchema = z
  .strictObject({
    build: z.union([z.string().transform((context) => ({ context, dockerfile: 'Dockerfile', args: {} })), buildSchema]).optional(),
    image: imageRef('must be an image reference such as "shop/migrator:3"').optional(),
    command: argv('["node", "migrate.js"]').describe('the release command, run in a one-off container of this image'),
  })
  .refine((r) => (r.build === undefined) !== (r.image === undefined), {
    error: 'set exactly one of "build" (a directory to build the release image from) or "image" (a prebuilt image)',
    path: ['build'],
  })
  .describe('the release command from its own image (e.g. a migrator), built or pinned with the release; instead of release_command');

/** A directory inside an image: absolute, without `.`/`..` segments (read from the image, never from this host). */
const imageDir = z
  .string({ error: 'must be an absolute path inside the release image, such as "/app/db/migrations"' })
  .superRefine((p, ctx) => {
    const problem = !p.startsWith('/')
      ? 'must be an absolute path inside the release image, such as "/app/db/migrations"'
      : /[\0\n\r]/.test(p)
        ? 'must not contain a NUL or a line break'
        : p.split('/').some((seg) => seg === '..' || seg === '.')
          ? 'must not contain "." or ".." segments'
          : /^\/+$/.test(p)
            ? 'must not be "/" (name the directory that holds the .sql files)'
            : null;
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .transform((p) => p.replace(/\/+/g, '/').replace(/\/$/, ''));

export const migrationsSchema = z
  .strictObject({
    dir: imageDir.optional().describe('directory of the release image holding the migrations as .sql files, run in name order; the files not yet applied in this environment are linted'),
    lint_command: argv('["node", "migrate.js", "--print-sql"]')
      .optional()
      .describe('argv run in a one-off container of the release image, with the release command\'s environment, that prints the SQL the release command will run'),
  })
  .refine((m) => (m.dir === undefined) !== (m.lint_command === undefined), {
    error: 'set exactly one of "dir" (the .sql files in the release image) or "lint_command" (a command that prints the SQL)',
    path: ['dir'],
  })
  .describe('the migration lint: the SQL the release command will run is checked with the Postgres parser before it runs; in production a destructive or locking statement fails the deployment unless `slipway deploy --allow-destructive`');

/** The kinds of readiness probe. */
const probeKind = z.enum(['http', 'tcp', 'exec'], {
  error: 'must be "http" (GET a path), "tcp" (connect to the port) or "exec" (run a command in the container; exit 0 = ready)',
});

const accessoryHealthObject = z.strictObject({
  kind: probeKind.optional().describe("default: the kind's own check (postgres: pg_isready, redis: redis-cli ping, nats: GET /healthz on 8222; container: tcp on its port)"),
  command: argv('["pg_isready", "-q"]').optional().describe('exec: argv run inside the container; exit 0 = ready'),
  path: z
    .string({ error: 'must be a string' })
    .startsWith('/', { error: 'must start with "/"' })
    .regex(CHECK_PATH, { error: CHECK_PATH_ERROR })
    .optional()
    .describe('http: the path to GET (default "/")'),
  port: wholeNumber(1, 65535).optional().describe("tcp/http: the port probed (default: the accessory's port)"),
  interval: durationValue().optional().describe('time between probes (default 500ms)'),
  timeout: durationValue().optional().describe('time one probe may take (default 5s)'),
  deadline: durationValue('"2m"').optional().describe('how long a (re)started accessory may take to become ready before the deploy fails (default 2m)'),
});

export const accessoryHealthSchema = z
  .union([z.literal(false), z.literal('none'), accessoryHealthObject], {
    error: 'must be a map such as { kind: tcp } or { kind: exec, command: [...] }, or "none" (a container accessory ready once running)',
  })
  .describe("readiness of the accessory, merged over its kind's default check; services that use it start once it is ready");

const accessoryKind = z.enum(['postgres', 'redis', 'nats', 'container'], {
  error: 'must be "postgres", "redis", "nats" or "container" (any image)',
});

const accessoryVersion = z
  .union([z.string(), z.number()], { error: 'must be a version such as "15"' })
  .transform((v) => String(v))
  .pipe(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, { error: 'must be a version such as "15"' }));

/** Postgres identifiers Slipway creates without quoting. */
export const PG_IDENTIFIER_RE = /^[a-z_][a-z0-9_]{0,62}$/;

const accessoryBackupSchema = z
  .union(
    [
      z.literal(false),
      z.literal('off'),
      z.strictObject({
        schedule: z
          .union([
            z.literal(false),
            z.string({ error: 'must be a cron expression such as "0 3 * * *", or false' }).superRefine((v, ctx) => {
              try {
                parseCron(v);
              } catch (err) {
                ctx.addIssue({ code: 'custom', message: (err as Error).message });
              }
            }),
          ], { error: 'must be a cron expression such as "0 3 * * *", or false (backups only by hand and before releases)' })
          .optional()
          .describe('cron (UTC) of scheduled backups (default "0 3 * * *"); false: only by hand and before releases'),
        full_every: durationValue('"7d"', MAX_SPAN_MS).optional().describe('a scheduled backup is full when the last full one is older than this (default 7d), differential otherwise'),
        retention: z
          .strictObject({
            full: wholeNumber(1, 1000).optional().describe('full backups kept (default 4)'),
            pitr: durationValue('"7d"', MAX_SPAN_MS).optional().describe('every point in this window stays restorable with --to-time (default 7d)'),
          })
          .optional(),
        verify: z
          .strictObject({
            every: durationValue('"1d"', MAX_SPAN_MS).optional().describe('verify the newest backup this often (default: every scheduled backup, right after it)'),
            sql: z.array(z.string({ error: 'must be a SQL query' }).min(1, { error: 'must not be empty' }), { error: 'must be a list of SQL queries' }).optional().describe('queries run on the restored copy: each must succeed, and a single count must not be 0'),
          })
          .optional(),
      }),
    ],
    { error: 'must be a map such as { schedule: "0 3 * * *", retention: { full: 4, pitr: 7d } }, or off' },
  )
  .describe('postgres: pgBackRest backups (on by default for the built-in image): WAL archived continuously, scheduled full/differential backups, each verified by restoring it');

const accessoryShape = {
  kind: accessoryKind.describe('postgres, redis and nats are built in (images built from Debian packages on first use); container runs any image'),
  version: accessoryVersion.optional().describe('postgres "15", redis "7", nats "2" (the default); not for container'),
  image: imageRef('must be an image reference such as "postgres:16"').optional().describe('replaces the built-in image (e.g. postgres:16; it must meet the image contract of docs/accessories.md); required for container'),
  port: wholeNumber(1, 65535).optional().describe("container: the port it listens on inside the project network; built-in kinds listen on their own port (5432, 6379, 4222)"),
  volumes: volumesSchema.optional(),
  env: z.record(envKey, envValue).default({}).describe('plain environment variables of the container'),
  command: argv('["postgres", "-c", "max_connections=200"]').optional().describe("replaces the image's CMD (not for redis and nats: Slipway runs them with a config file carrying their generated password)"),
  health: accessoryHealthSchema.optional(),
  resources: resourcesSchema.optional(),
  stop_timeout: duration('30s', 'time between SIGTERM and SIGKILL when the accessory is stopped or recreated'),
  backup: accessoryBackupSchema.optional(),
  database: z
    .string({ error: 'must be a string' })
    .regex(PG_IDENTIFIER_RE, { error: 'must be a lowercase Postgres identifier (a-z, 0-9 and "_", starting with a letter or "_", at most 63 characters)' })
    .refine((d) => !RESERVED_DATABASES.includes(d), { error: 'must not be "postgres", "template0" or "template1" (Postgres\'s own databases); choose another name, e.g. app' })
    .optional()
    .describe('postgres: the database created for the services (default: the project name with "-" as "_"; never postgres, template0 or template1)'),
};

export const accessoryBaseSchema = z.strictObject(accessoryShape);
export type AccessoryWritten = z.output<typeof accessoryBaseSchema>;
export type AccessoryHealthWritten = z.output<typeof accessoryHealthObject>;

export const accessorySchema = accessoryBaseSchema
  .superRefine((a, ctx) => {
    for (const p of accessoryProblems(a)) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
  })
  .describe('a stateful singleton of each environment (database, cache, queue…): started before the services that use it, never rolled, recreated when it changes');

/**
 * What an environment may change about an accessory (maps such as env, health and
 * resources merge key by key; lists replace).
 */
export const accessoryOverrideSchema = z
  .strictObject({
    version: accessoryShape.version,
    image: accessoryShape.image,
    volumes: volumesSchema.optional(),
    env: z.record(envKey, envValue).optional(),
    command: accessoryShape.command,
    health: accessoryHealthSchema.optional(),
    resources: resourcesSchema.optional(),
    stop_timeout: durationValue().optional(),
    backup: accessoryBackupSchema.optional(),
  })
  .describe('per-environment changes to an accessory');

/** A service's `command` and `release_command`: one schema for the service and its per-environment overrides. */
/**
 * `replicas: 3`, or `replicas: { min: 2 }`: at least 2, and a count `slipway scale` raised is
 * kept by the next deploy (a plain number is what every deploy runs).
 */
const replicaCount = z
  .number({ error: 'must be a whole number' })
  .int({ error: 'must be a whole number' })
  .min(1, { error: 'must be between 1 and 100 (to run no replica and keep the service, its config and releases, use slipway stop)' })
  .max(100, { error: 'must be between 1 and 100' });
export const replicasSchema = z
  .union([replicaCount, z.strictObject({ min: replicaCount })], { error: 'must be a whole number from 1 to 100, or { min: N } to keep a count slipway scale raised' })
  .describe('replicas to run: N, or { min: N } to keep a higher count set by slipway scale across deploys');

const serviceCommand = argv('["node", "worker.js"]', true);
const releaseCommand = argv('["node", "migrate.js"]');

/**
 * A job's `schedule`: a cron expression, or `off` (the service is still a job, deployed and
 * runnable by hand with `slipway run`, but the scheduler never starts it). Also per environment.
 */
const scheduleSchema = z.string({ error: 'must be a cron expression such as "0 */6 * * *", or off' }).superRefine((v, ctx) => {
  if (v === 'off') return;
  try {
    parseCron(v);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});

export const webServiceSchema = z
  .strictObject({
    type: z
      .enum(['web', 'worker', 'job'], { error: 'must be "web" (has a port, gets traffic), "worker" (no port) or "job" (runs on a schedule)' })
      .optional()
      .describe('default: job with a schedule, web with a port, worker without'),
    schedule: scheduleSchema
      .optional()
      .describe('cron (UTC; 5 fields, or 6 with leading seconds): the control plane runs the service as a one-off job at these times; off: a job never run on schedule (by hand only) unless an environment sets one'),
    job_timeout: duration('1h', 'a scheduled run is killed and recorded as timed out after this long'),
    build: z.union([z.string().transform((context) => ({ context, dockerfile: 'Dockerfile', args: {} })), buildSchema]).optional(),
    image: imageRef('must be an image reference such as "slipway/node:20"').optional(),
    port: wholeNumber(1, 65535)
      .optional()
      .describe('port the app listens on inside the container; without it the service is a worker (no traffic, no health path)'),
    command: serviceCommand.optional().describe("replaces the image's CMD (e.g. a worker built from the web image)"),
    min_ready: duration('5s', 'a worker without a HEALTHCHECK is ready once it has been running this long'),
    domains: z.array(domain, { error: 'must be a list of host names' }).default([]).describe('host names the edge routes to this service'),
    https: httpsSchema.default(httpsSchema.parse({})),
    health: healthSchema.default(healthSchema.parse({})),
    replicas: replicasSchema.default(1),
    deploy: deploySchema.default(deploySchema.parse({})),
    release_command: releaseCommand
      .optional()
      .describe('runs once per deployment in a one-off container of the new image, before traffic moves (migrations)'),
    release_timeout: duration('5m', 'how long the release command may run before the deployment fails'),
    env: z
      .record(envKey, envValue)
      .default({})
      .describe('plain environment variables (not secrets)'),
    retention: retentionSchema.default(retentionSchema.parse({})),
    uses: usesSchema.optional(),
    volumes: volumesSchema.optional(),
    resources: resourcesSchema.optional(),
    release: releaseSchema.optional(),
    migrations: migrationsSchema.optional(),
    alerts: serviceAlertRulesSchema.optional(),
  })
  .refine((s) => (s.build === undefined) !== (s.image === undefined), {
    error: 'set exactly one of "build" (a directory to build) or "image" (a prebuilt image)',
    path: ['build'],
  })
  .refine((s) => s.type !== 'web' || s.port !== undefined, { error: 'a web service needs the port it listens on', path: ['port'] })
  .refine((s) => s.schedule === undefined || s.port === undefined, { error: 'a scheduled job has no port (it runs to completion; it gets no traffic)', path: ['port'] })
  .refine((s) => s.type !== 'job' || s.schedule !== undefined, { error: 'a job needs a schedule', path: ['schedule'] })
  .refine((s) => s.type !== 'worker' || s.port === undefined, { error: 'a worker has no port (remove it, or make the service type web)', path: ['port'] })
  .refine((s) => s.port !== undefined || s.domains.length === 0, { error: 'a service without a port gets no traffic, so it cannot have domains (add the port it listens on, or remove domains)', path: ['domains'] })
  .refine((s) => s.deploy.strategy !== 'blue-green' || (s.port !== undefined && s.schedule === undefined), {
    error: 'blue-green switches traffic at the edge, so it needs a web service (with a port); use rolling or recreate for workers and jobs',
    path: ['deploy', 'strategy'],
  })
  .refine((s) => s.deploy.strategy !== 'canary' || (s.port !== undefined && s.schedule === undefined), {
    error: 'canary splits traffic at the edge and judges HTTP answers, so it needs a web service (with a port); use rolling or recreate for workers and jobs',
    path: ['deploy', 'strategy'],
  })
  .refine((s) => !s.deploy.smoke || (s.port !== undefined && s.schedule === undefined && s.domains.length > 0), {
    error: 'smoke checks send requests through the edge with the service\'s domain as Host, so they need a web service with a port and at least one domain',
    path: ['deploy', 'smoke'],
  })
  .refine((s) => s.release === undefined || s.release_command === undefined, {
    error: 'set either "release" (the release command in its own image) or "release_command" (in the service\'s image), not both',
    path: ['release'],
  })
  .refine((s) => s.migrations === undefined || s.release_command !== undefined || s.release !== undefined, {
    error: 'lints the SQL of the release command, but the service has none: add release_command (or release: { command }), or remove migrations',
    path: ['migrations'],
  })
  .refine((s) => s.health.kind !== 'exec' || s.health.command !== undefined, { error: 'health kind "exec" needs a command (argv run inside the container; exit 0 = ready)', path: ['health', 'command'] })
  .refine((s) => s.health.command === undefined || s.health.kind === undefined || s.health.kind === 'exec', { error: 'is only used by health kind "exec" (remove it, or set kind: exec)', path: ['health', 'command'] })
  .refine((s) => s.port !== undefined || s.health.kind === undefined || s.health.kind === 'exec', {
    error: 'a service without a port has no HTTP or TCP check: use kind "exec" with a command, or leave kind unset',
    path: ['health', 'kind'],
  });

/**
 * What an environment may change about a service. Values are merged over the service's
 * own (maps like env, health and deploy key by key; lists replace).
 */
export const serviceOverrideSchema = z
  .strictObject({
    image: imageRef('must be an image reference such as "slipway/node:20"').optional(),
    replicas: replicasSchema.optional(),
    domains: z.array(domain, { error: 'must be a list of host names' }).optional(),
    https: z.strictObject(httpsSchema.shape).partial().optional(),
    env: z.record(envKey, envValue).optional(),
    health: z.strictObject(healthSchema.shape).partial().optional(),
    deploy: z.strictObject(deployBaseShape).partial().optional(),
    release_command: releaseCommand.optional(),
    release_timeout: durationValue().optional(),
    migrations: migrationsSchema.optional(),
    command: serviceCommand.optional(),
    min_ready: durationValue().optional(),
    schedule: scheduleSchema.optional().describe("a job's schedule in this environment: a cron expression, or off (deployed, never run on schedule); only for a service that is a job (has a schedule) under services"),
    retention: z.strictObject(retentionSchema.shape).partial().optional(),
    uses: usesSchema.optional(),
    volumes: volumesSchema.optional(),
    resources: resourcesSchema.optional(),
    alerts: serviceAlertRulesSchema.optional(),
  })
  .describe('per-environment changes to a service');

export const ENV_NAME_RE = ENV_NAME_RE_INLINE;

export const environmentOverrideSchema = z
  .strictObject({
    approval: z
      .enum(['required', 'none'], { error: 'must be "required" or "none"' })
      .default('none')
      .describe('"required": deploys and promotions to this environment wait for `slipway approve`'),
    backup_before_release: z
      .boolean({ error: 'must be true or false' })
      .optional()
      .describe('a deployment with a release command takes a backup of the Postgres accessories its service uses first (default: true for production)'),
    services: z.record(name('service'), serviceOverrideSchema, { error: 'must be a map of service name to overrides' }).default({}),
    accessories: z.record(name('accessory'), accessoryOverrideSchema, { error: 'must be a map of accessory name to overrides' }).optional(),
  })
  .describe('overrides for one environment');

/** A string rule from a `(value) => problem | null` function. */
const ruleOf = (problem: (v: string) => string | null) => (v: string, ctx: z.RefinementCtx) => {
  const p = problem(v);
  if (p) ctx.addIssue({ code: 'custom', message: p });
};

/** `branches:` / `tags:`: a name or pattern (core/ref-triggers.ts) → an environment. */
const refTriggerMap = (kind: 'branch' | 'tag', example: string) =>
  z.record(
    z.string().superRefine(ruleOf(refPatternProblem)),
    z.string({ error: 'must be an environment name' }).regex(ENV_NAME_RE_INLINE, { error: 'must be an environment name (production, staging, preview-<name>)' }),
    { error: `must map ${kind} names or patterns to environments, e.g. ${example}` },
  );

export const projectConfigSchema = z
  .strictObject({
    project: name('project').describe('project name; also the prefix of container names'),
    repository: z
      .string({ error: 'must be a git repository URL' })
      .superRefine((v, ctx) => {
        const problem = gitUrlProblem(v);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .optional()
      .describe('git repository of the project: `slipway deploy --ref <branch|tag|sha>` has the server build from it'),
    branches: refTriggerMap('branch', '{ main: staging, "release/*": production }')
      .optional()
      .describe('push webhooks: a push to a branch named here (or matching a pattern: *, **, ?) builds that commit and deploys it to the environment; an exact name beats a pattern, then the most specific pattern (docs/webhooks.md)'),
    tags: refTriggerMap('tag', '{ "v*": production }')
      .optional()
      .describe('push webhooks: a pushed tag named here (or matching a pattern: *, **, ?) builds the tagged commit and deploys it to the environment; precedence as for branches'),
    webhooks: z
      .strictObject({
        allow_force_push: z
          .union([z.boolean(), z.array(z.string().superRefine(ruleOf(allowForcePushEntryProblem))).max(100, { error: 'at most 100 branches' })], {
            error: 'must be true, false, or a list of branch names or patterns (tags as refs/tags/<name or pattern>)',
          })
          .default(false)
          .describe('accept a push whose commit does not descend from the live commit (a forced branch push, or a tag of an older commit): true, or branch names/patterns and refs/tags/<pattern> (read from slipway.yml at the live commit)'),
      })
      .optional()
      .describe('push webhook policy: webhooks: { allow_force_push: true } or [branch, …]'),
    services: z
      .record(name('service'), webServiceSchema, { error: 'must be a map of service name to service' })
      .refine((s) => Object.keys(s).length > 0, { error: 'must define at least one service' }),
    accessories: z
      .record(name('accessory'), accessorySchema, { error: 'must be a map of accessory name to accessory, e.g. { db: { kind: postgres } }' })
      .optional()
      .describe('stateful singletons per environment (postgres, redis, nats, or any container), reached by the services by name'),
    alerts: serviceAlertRulesSchema.optional().describe('alert rules for every service of the project (a service\'s own alerts: change them for it); host rules are server-wide: slipway alerts defaults'),
    environments: z
      .record(
        z.string().regex(ENV_NAME_RE, { error: 'environment names are lowercase letters, digits and "-" (production, staging, preview-<name>)' }),
        environmentOverrideSchema,
        { error: 'must be a map of environment name to overrides' },
      )
      .optional()
      .describe('per-environment overrides: environments: { staging: { services: { web: { replicas: 1 } } } }'),
  })
  .superRefine((p, ctx) => {
    for (const [name, a] of Object.entries(p.accessories ?? {})) {
      const problem = a.kind === 'postgres' && a.database === undefined ? defaultDatabaseProblem(p.project) : null;
      if (problem) ctx.addIssue({ code: 'custom', path: ['accessories', name, 'database'], message: problem });
    }
  })
  .describe('slipway.yml: a project, its services and its accessories');

export type ProjectConfigInput = z.input<typeof projectConfigSchema>;
export type ProjectConfigWritten = z.output<typeof projectConfigSchema>;
