/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The service page's actions and the overview's traffic figures in a real browser (Debian's
 * Chromium, headless) against a real control plane, Docker and HAProxy; what the page shows is
 * compared with what the typed API client returns and with facts the test made itself.
 * Env vars: the live release's plain variables as the API reports them, secret values nowhere.
 * Logs: lines the replicas printed (one per request through the edge, with a marker), live while
 * following, the last 200 per replica when reopened, narrowed by the filter (and a broken filter
 * reported as the API words it). Redeploy (confirmed): a new release that succeeds, shown in the
 * header and the timeline, served by the edge. Secret unset (confirmed): gone from the page, the
 * API and the replicas' environment; its value never reached the browser. Job history: a
 * scheduled job's runs with their state and exit code as the API lists them. Canary: paused from
 * the page, the split and per-side figures as the API reports them (the figures also match the
 * responses the test received), promoted from the page; a second one aborted from the page.
 * Overview: a known mix through the edge (N requests, K answering 500, some slow), its request
 * rate, error rate and p95 as the API reports them and as the mix dictates. Recent requests: the
 * Metrics tab's list narrowed by status (a preset, a typed list) as the API answers for the same
 * filter; a bad filter is named before anything is sent.
 * Screenshots go to test-output/dashboard-service/.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import Docker from 'dockerode';
import type { Locator } from 'playwright-core';
import { ControlPlaneProcess } from './support/control-plane-process';
import { TestProject, type Variant } from './support/test-project';
import { deployAndWait, deploymentLog, waitDeployment } from './support/wait-deployment';
import { openBrowser, testOutputDir, type BrowserSession } from './support/browser';
import { collapse, pageChecks, signIn } from './support/page-checks';
import { until } from './support/until';
import { deployDirectory } from '../src/client/upload-contexts';
import { ApiError, type LogsQuery } from '../src/client/api-client';
import type { JobRunView, LiveCanaryView, ServiceStatusView } from '../src/core/contract/views';
import { LATENCY_BOUNDS_MS, bucketIndex } from '../src/observe/latency-histogram';
import { MASK } from '../src/engine/secret-values';
import { ms, percent, rate } from '../web/src/lib/format';

const cp = await ControlPlaneProcess.create('dashsvc');
/** The service whose page is exercised (2 replicas, request logging on). */
const app = new TestProject('dsvc');
/** Its own project for the known traffic mix (nothing else reaches it) and the scheduled job. */
const mix = new TestProject('dsvcmix');
const OUT = testOutputDir('dashboard-service');
const PASSWORD = 'dashboard-service-password';
const USER = 'alice';
const ENV = 'production';
const docker = new Docker();
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

// Two secrets of dsvc/production: the app prints both at startup (ECHO_ENV, a careless app),
// so the logs carry them (masked); one is unset from the page later.
const SECRET_GONE = 'SVC_API_KEY';
const SECRET_KEPT = 'SVC_KEEP';
const VALUE_GONE = `gone-${Math.random().toString(36).slice(2)}-value`;
const VALUE_KEPT = `kept-${Math.random().toString(36).slice(2)}-value`;
/** Plain variables of every release of web (besides APP_VERSION), with characters that need escaping. */
const PLAIN_ENV = { LOG_REQUESTS: '1', ECHO_ENV: `${SECRET_GONE},${SECRET_KEPT}`, GREETING: 'hello <b>service</b> & "page"', FEATURE_URL: 'https://example.test/a?b=c&d=e' };
const webVariant = (version: string, deploy?: Record<string, unknown>): Variant => ({ version, replicas: 2, env: PLAIN_ENV, ...(deploy ? { deploy } : {}) });
/** The version string the live release of web was deployed with (APP_VERSION). */
let liveVersion = 'one';
let b: BrowserSession;

before(async () => {
  // Request metrics flushed every second, so the overview and the canary figures are fresh.
  await cp.start({ SLIPWAY_METRICS_FLUSH_INTERVAL: '1s' });
  await cp.client.createBaseImage('node');
  await cp.client.createUser({ name: USER, password: PASSWORD, scope: 'admin' });
  const v1 = await deployAndWait(cp.client, app.write(webVariant('one')));
  assert.equal(v1.state, 'succeeded', await deploymentLog(cp.client, v1.id));
  // Secrets set through the API roll out a new release (v2) that carries them.
  const change = await cp.client.changeSecrets(app.project, ENV, { set: { [SECRET_GONE]: VALUE_GONE, [SECRET_KEPT]: VALUE_KEPT } });
  const rollout = change.rollouts.find((r) => r.service === 'web')?.deploymentId;
  assert.ok(rollout, `the secrets change rolls out to web: ${JSON.stringify(change)}`);
  const v2 = await waitDeployment(cp.client, rollout);
  assert.equal(v2.state, 'succeeded', await deploymentLog(cp.client, rollout));
  const m = await deployAndWait(cp.client, mix.write({ version: 'mix', replicas: 1 }));
  assert.equal(m.state, 'succeeded', await deploymentLog(cp.client, m.id));

  b = await openBrowser(`http://127.0.0.1:${cp.apiPort}`);
  // tsx (esbuild keepNames) wraps named functions inside the callbacks given to evaluate() in __name(): the page needs it too.
  await b.context.addInitScript({ content: 'globalThis.__name = (f) => f;' });
  await signIn(b, USER, PASSWORD, checks);
});

after(async () => {
  await b?.close();
  agent.destroy();
  await cp.destroy();
});

// ---------------------------------------------------------------------------------------------
// Helpers: diagnostics, navigation, page-vs-API comparison (as in dashboard-pages.test.ts).

const checks = pageChecks(() => b, OUT, () => cp.tail(20));
const { explain, shown, settle, assertNoPageErrors } = checks;

/** Whether a text is anywhere in the page: its DOM or a form field's value. */
async function inPage(text: string): Promise<boolean> {
  const dom = await b.page.content();
  const values = await b.page.evaluate(() => [...document.querySelectorAll('input, textarea')].map((e) => (e as HTMLInputElement).value));
  return dom.includes(text) || values.some((v) => v.includes(text));
}

/** The API answers the browser received that carried a text (none may carry a secret value). */
function answersWith(text: string): string[] {
  return b.answers.filter((a) => a.body.includes(text)).map((a) => `${a.status} ${new URL(a.url).pathname}`);
}

/** Opens a service's page from the overview (as a user would) on one of its tabs. */
async function openService(project: string, service: string, tab: 'Overview' | 'Logs' | 'Config' | 'Jobs' = 'Overview'): Promise<void> {
  const { page } = b;
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Overview', exact: true }).click();
  const link = page.locator(`section[aria-labelledby="env-${project}-${ENV}"] tr[data-service="${service}"] a`);
  await shown(link, `overview-link-${project}-${service}`);
  await link.click();
  await shown(page.getByRole('heading', { level: 1 }).filter({ hasText: service }), `service-page-${service}`);
  assert.equal(new URL(page.url()).pathname, `/p/${project}/${ENV}/${service}`);
  await selectTab(tab);
}

async function selectTab(tab: string): Promise<void> {
  const button = b.page.getByRole('tab', { name: tab, exact: true });
  await button.click();
  assert.equal(await button.getAttribute('aria-selected'), 'true', `the ${tab} tab is selected`);
}

async function statusOf(project: string, service: string): Promise<ServiceStatusView> {
  const s = (await cp.client.status(project, ENV)).services.find((x) => x.service === service);
  assert.ok(s, `the API lists ${project}/${service}`);
  return s;
}

/** What the header shows as the live release ("v3"). */
async function headerRelease(): Promise<string> {
  return collapse(await b.page.locator('header.svc dl.facts .mono.strong').first().textContent({ timeout: 5_000 }).catch(() => ''));
}

/** One GET through the edge with the service's Host header; latency measured client-side. */
function edgeGet(host: string, pathname: string): Promise<{ path: string; status: number; release: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: cp.httpPort, path: pathname, agent, headers: { host } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ path: pathname, status: res.statusCode ?? 0, release: String(res.headers['x-slipway-release'] ?? '?'), ms: performance.now() - started }));
    });
    req.on('error', reject);
  });
}

/** Sends every path, `concurrency` at a time (1: in order). */
async function sendAll(host: string, paths: string[], concurrency: number) {
  const out: Array<Awaited<ReturnType<typeof edgeGet>>> = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < paths.length) out.push(await edgeGet(host, paths[next++]!));
    }),
  );
  return out;
}

// ---------------------------------------------------------------------------------------------

test('Env vars: the Config tab lists the live release’s plain variables as the API reports them; secret values appear nowhere', async () => {
  const { page } = b;
  await openService(app.project, 'web', 'Config');
  const table = page.getByTestId('env-vars');
  await shown(table, 'env-vars-table');
  const readVars = () =>
    table.locator('tbody tr').evaluateAll((rows) =>
      rows.map((tr) => {
        const td = tr.querySelectorAll('td');
        return { attr: tr.getAttribute('data-name'), name: td[0]?.textContent ?? '', value: td[1]?.textContent ?? '' };
      }),
    );
  const vars = await settle('env vars of the live release', async () => {
    const rel = (await statusOf(app.project, 'web')).currentRelease;
    assert.ok(rel, 'web has a live release');
    const heading = collapse(await page.locator('section[aria-labelledby="envvars-title"] .spread').innerText());
    return {
      page: { heading, rows: await readVars() },
      api: { heading: `Environment variables of v${rel.number}`, rows: Object.entries(rel.env).sort(([x], [y]) => x.localeCompare(y)).map(([name, value]) => ({ attr: name, name, value })) },
    };
  });
  // The known config: exactly what slipway.yml's env: says, nothing added, nothing secret.
  const rel = (await statusOf(app.project, 'web')).currentRelease!;
  assert.deepEqual(rel.env, { APP_VERSION: liveVersion, ...PLAIN_ENV }, 'the API reports the env: of slipway.yml');
  const listed = (await cp.client.releases(app.project, 'web', ENV)).releases.find((r) => r.number === rel.number);
  assert.deepEqual(listed?.env, rel.env, 'the releases list agrees with status');
  assert.ok(rel.secretsVersion !== null, `the live release runs with secrets (version ${rel.secretsVersion})`);
  const names = vars.rows.map((r) => r.name);
  assert.ok(!names.includes(SECRET_GONE) && !names.includes(SECRET_KEPT), `no secret among the env vars: ${names.join(', ')}`);

  // The secrets card lists the names and versions the API lists.
  const secretRows = page.getByTestId('secrets-table').locator('tr[data-testid="secret-row"]');
  await shown(secretRows.first(), 'secrets-table');
  await settle('secret names and versions', async () => ({
    page: await secretRows.evaluateAll((rows) => rows.map((tr) => ({ name: tr.getAttribute('data-name'), version: Number(tr.querySelectorAll('td')[1]?.textContent) }))),
    api: (await cp.client.secrets(app.project, ENV)).secrets.map((s) => ({ name: s.name, version: s.version })),
  }));
  for (const value of [VALUE_GONE, VALUE_KEPT]) {
    assert.equal(await inPage(value), false, 'a secret value is not in the page');
    assert.deepEqual(answersWith(value), [], 'no answer the browser received carried a secret value');
  }
  await page.screenshot({ path: path.join(OUT, 'service-config.png'), fullPage: true });
  assertNoPageErrors();
});

type LogRow = { replica: string; at: string; line: string };

/** The lines the page's log view shows: replica (full name), time and text, in its order. */
function pageLogLines(): Promise<LogRow[]> {
  return b.page.getByTestId('logs').evaluate((pre) =>
    [...pre.children]
      .filter((el) => el.querySelector('.rep'))
      .map((el) => {
        const t = el.querySelector('.t');
        const rep = el.querySelector('.rep');
        const prefix = `${t?.textContent ?? ''} ${rep?.textContent ?? ''} `;
        return { replica: rep?.getAttribute('title') ?? '', at: t?.getAttribute('title') ?? '', line: (el.textContent ?? '').slice(prefix.length).replace(/\n$/, '') };
      }),
  );
}

async function apiLogLines(q: LogsQuery): Promise<LogRow[]> {
  const out: LogRow[] = [];
  for await (const e of cp.client.logs(app.project, 'web', { env: ENV, ...q })) out.push({ replica: e.replica, at: e.at, line: e.line });
  return out;
}

/** The count the log view prints ("following · 42 lines"). */
async function logCount(): Promise<string> {
  return collapse(await b.page.getByTestId('logs-tail').locator('.spread > span').textContent());
}

test('Logs: the lines the replicas printed, live while following, the last 200 per replica when reopened, narrowed by the filter', async (t) => {
  const { page } = b;
  await openService(app.project, 'web', 'Logs');
  const logs = page.getByTestId('logs');
  await shown(page.getByTestId('logs-tail').getByText(/following · \d+ lines?/), 'logs-following');

  // Before any request: the startup lines of the live replicas, the secrets they echo masked.
  const startup = await settle('startup lines (tail 200 per replica)', async () => ({ page: await pageLogLines(), api: await apiLogLines({ tail: 200 }) }));
  const live = (await statusOf(app.project, 'web')).replicas.filter((r) => r.state === 'running').map((r) => r.name).sort();
  const withLines = new Set(startup.map((l) => l.replica));
  assert.ok(live.length === 2 && live.every((r) => withLines.has(r)), `both live replicas show their lines: ${live.join(', ')} vs ${[...withLines].join(', ')}`);
  for (const name of live) {
    const mine = startup.filter((l) => l.replica === name).map((l) => l.line);
    assert.ok(mine.some((l) => /^hello \S+ \(release v\d+\) listening on :3000$/.test(l)), `${name} printed its startup line: ${mine.join(' | ')}`);
    assert.ok(mine.includes(`${SECRET_KEPT}=${MASK}`), `${name} echoed ${SECRET_KEPT}, masked: ${mine.join(' | ')}`);
  }
  assert.equal(await inPage(VALUE_KEPT), false, 'the echoed secret value is not in the page');

  // 500 requests through the edge, one after the other: each replica prints one line per request.
  const MARKS = 500;
  const tag = `mark${Date.now().toString(36)}`;
  const markOf = (line: string) => new RegExp(`${tag}-(\\d{3})`).exec(line)?.[1] ?? null;
  const sent = await sendAll(app.domain, Array.from({ length: MARKS }, (_, i) => `/?m=${tag}-${String(i + 1).padStart(3, '0')}`), 1);
  assert.deepEqual([...new Set(sent.map((s) => s.status))], [200], 'every marker request answered 200');
  const full = await until('every marker line in the API logs', async () => {
    const all = await apiLogLines({ tail: 10_000 });
    return all.filter((l) => markOf(l.line)).length === MARKS && all;
  }, { timeoutMs: 30_000 });

  // Following: the page received them live, next to the startup lines (under its 1000-line cap).
  await settle('followed lines (everything printed)', async () => ({ page: await pageLogLines(), api: await apiLogLines({ tail: 10_000 }) }), { timeoutMs: 30_000 });
  assert.equal(await logCount(), `following · ${full.length} lines`);

  // Reopened: a new stream, the last 200 lines of each replica: the oldest lines are gone.
  await selectTab('Overview');
  await selectTab('Logs');
  const perReplica = new Map<string, LogRow[]>();
  for (const l of full) perReplica.set(l.replica, [...(perReplica.get(l.replica) ?? []), l]);
  const counts = [...perReplica].map(([r, ls]) => `${r}: ${ls.length}`).join(', ');
  t.diagnostic(`lines per replica after ${MARKS} requests: ${counts}`);
  assert.ok([...perReplica.values()].some((ls) => ls.length > 200), `a replica printed more than 200 lines, so the tail cuts something (${counts})`);
  const lastOfEach = new Set([...perReplica.values()].flatMap((ls) => ls.slice(-200)));
  const expectedTail = full.filter((l) => lastOfEach.has(l));
  const tail = await settle('log lines after reopening (tail 200 per replica)', async () => ({ page: await pageLogLines(), api: await apiLogLines({ tail: 200 }) }), { timeoutMs: 30_000 });
  assert.deepEqual(tail, expectedTail, 'the page shows the last 200 lines of each replica, merged in time order');
  assert.equal(await logCount(), `following · ${expectedTail.length} lines`);
  assert.ok(tail.length < full.length && !tail.some((l) => markOf(l.line) === '001'), 'the first marker fell out of the tail');
  await page.screenshot({ path: path.join(OUT, 'service-logs.png'), fullPage: true });

  // The filter (a regular expression, matched on the server): markers 400–449 only.
  const filter = page.locator('input[name="log-filter"]');
  const grep = `${tag}-4[0-4]\\d`;
  await filter.fill(grep);
  const filtered = await settle(`log lines matching ${grep}`, async () => ({ page: await pageLogLines(), api: await apiLogLines({ tail: 200, grep }) }), { timeoutMs: 30_000 });
  const re = new RegExp(grep);
  assert.deepEqual(filtered, expectedTail.filter((l) => re.test(l.line)), 'the filter keeps the matching lines of the tail');
  assert.deepEqual(filtered.map((l) => Number(markOf(l.line))).sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => 400 + i), 'exactly the markers 400–449');
  assert.equal(await logCount(), 'following · 50 lines');
  await page.screenshot({ path: path.join(OUT, 'service-logs-filtered.png'), fullPage: true });

  // A filter that is not a regular expression: the page says why, in the API's words.
  const bad = `${tag}-(`;
  await filter.fill(bad);
  const alert = page.getByTestId('logs-tail').getByRole('alert');
  await shown(alert, 'logs-bad-filter');
  const refusal = await apiLogLines({ tail: 200, grep: bad }).then(
    () => assert.fail('the API accepted a broken regular expression'),
    (err: unknown) => err,
  );
  assert.ok(refusal instanceof ApiError && refusal.status === 400, `the API refuses it: ${String(refusal)}`);
  const why = refusal.details.find((d) => d.path === 'grep')?.message ?? refusal.message;
  assert.equal(collapse(await alert.innerText()), collapse(`The filter does not work: ${why} Reconnect`));

  // Cleared: the whole tail again.
  await filter.fill('');
  await settle('log lines after clearing the filter', async () => ({ page: await pageLogLines(), api: await apiLogLines({ tail: 200 }) }), { timeoutMs: 30_000 });
  assert.equal(await logs.locator('.err').count(), 0, 'no stderr line');
  assertNoPageErrors();
});

test('Redeploy from the page (confirmed): a new release that succeeds; the header, the timeline and the edge show the number the API reports', async () => {
  const { page } = b;
  await openService(app.project, 'web', 'Overview');
  const before = (await statusOf(app.project, 'web')).currentRelease!;
  await settle('live release before the redeploy', async () => ({ page: await headerRelease(), api: `v${(await statusOf(app.project, 'web')).currentRelease?.number}` }));

  await page.getByTestId('redeploy-button').click();
  const dialog = page.getByRole('dialog', { name: 'Redeploy web?' });
  await shown(dialog, 'redeploy-dialog');
  assert.match(collapse(await dialog.innerText()), new RegExp(`with the image and config of v${before.number} and the newest secrets`));
  const asked = Date.now();
  await dialog.getByRole('button', { name: 'Redeploy', exact: true }).click();

  const live = page.getByTestId('live-deployment');
  await shown(live, 'redeploy-live');
  const id = await live.getAttribute('data-deployment');
  assert.ok(id, 'the live view names its deployment');
  await shown(page.locator(`[data-testid="live-deployment"][data-deployment="${id}"][data-state="succeeded"]`), 'redeploy-succeeded', 120_000);
  const d = (await cp.client.deployment(id)).deployment;
  const dText = JSON.stringify({ ...d, steps: d.steps.map((s) => s.name) });
  assert.equal(d.state, 'succeeded', await deploymentLog(cp.client, id));
  assert.equal(d.service, 'web', dText);
  assert.equal(d.releaseNumber, before.number + 1, `a new release: ${dText}`);
  assert.equal(d.triggeredBy, `user:${USER}`, 'the page acts as the signed-in user');
  assert.ok(Date.parse(d.createdAt) >= asked - 1_000, 'created by this click');
  await shown(page.getByTestId('toast').filter({ hasText: `v${d.releaseNumber} is live` }), 'redeploy-toast');

  // The API: the new release is live, with the same image and config.
  const after = (await statusOf(app.project, 'web')).currentRelease!;
  assert.equal(after.number, d.releaseNumber);
  assert.equal(after.imageDigest, before.imageDigest, 'a redeploy keeps the image');
  assert.deepEqual(after.env, before.env, 'and the config');
  // The page: header and timeline agree with it.
  await settle('live release after the redeploy', async () => ({ page: await headerRelease(), api: `v${(await statusOf(app.project, 'web')).currentRelease?.number}` }));
  const row = page.locator(`[data-testid="timeline"] tr[data-deployment="${id}"]`);
  await shown(row, 'redeploy-timeline-row');
  assert.deepEqual(
    { release: await row.getAttribute('data-release'), state: await row.getAttribute('data-state'), live: await row.locator('.badge.ok', { hasText: 'live' }).count() },
    { release: String(d.releaseNumber), state: 'succeeded', live: 1 },
  );
  // The edge serves it.
  const served = await until(`the edge to serve v${d.releaseNumber}`, async () => {
    const r = await edgeGet(app.domain, '/');
    return r.release === `v${d.releaseNumber}` && r;
  }, { timeoutMs: 15_000 });
  assert.equal(served.status, 200);
  await page.screenshot({ path: path.join(OUT, 'service-redeployed.png'), fullPage: true });
  assertNoPageErrors();
});

test('Secret unset from the page (confirmed): gone from the page, the API and the replicas’ environment after the rollout; its value never reached the browser', async () => {
  const { page } = b;
  await openService(app.project, 'web', 'Config');
  const rows = page.getByTestId('secrets-table').locator('tr[data-testid="secret-row"]');
  const readNames = () => rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-name') ?? ''));
  const apiNames = async () => (await cp.client.secrets(app.project, ENV)).secrets.map((s) => s.name);
  await shown(rows.first(), 'secrets-rows');
  await settle('secret names before', async () => ({ page: await readNames(), api: await apiNames() }));
  const listBefore = await cp.client.secrets(app.project, ENV);
  assert.deepEqual(listBefore.secrets.map((s) => s.name).sort(), [SECRET_GONE, SECRET_KEPT].sort());

  await page.getByRole('button', { name: `Unset ${SECRET_GONE}`, exact: true }).click();
  const dialog = page.getByRole('dialog', { name: `Unset ${SECRET_GONE}?` });
  await shown(dialog, 'unset-dialog');
  assert.match(collapse(await dialog.innerText()), /every live service there is redeployed without it now/);
  await dialog.getByRole('button', { name: 'Unset', exact: true }).click();

  await rows.filter({ hasText: SECRET_GONE }).waitFor({ state: 'detached', timeout: 15_000 }).catch((err: unknown) => explain('unset-row', err));
  // Toasts fade after 5 s: read it now.
  const toast = collapse(await page.getByTestId('toast').filter({ hasText: `Unset ${SECRET_GONE} (version` }).first().innerText({ timeout: 5_000 }).catch(() => ''));
  const listAfter = await cp.client.secrets(app.project, ENV);
  assert.deepEqual(listAfter.secrets.map((s) => s.name), [SECRET_KEPT], `the API no longer lists ${SECRET_GONE}`);
  assert.equal(listAfter.version, (listBefore.version ?? 0) + 1, 'a new secrets version');
  assert.ok(toast.includes(`Unset ${SECRET_GONE} (version ${listAfter.version}); rolling out to web`), `the toast names the new version and the rollout: ${toast}`);
  await settle('secret names after', async () => ({ page: await readNames(), api: await apiNames() }));
  assert.equal(collapse(await page.locator('section[aria-labelledby="secrets-title"] .spread .muted').textContent()), `version ${listAfter.version}`);

  // The rollout the page follows: a secrets deployment that succeeds, the new release without it.
  const live = page.locator('[data-testid="live-deployment"]');
  await shown(live, 'unset-rollout');
  const id = (await live.getAttribute('data-deployment'))!;
  await shown(page.locator(`[data-testid="live-deployment"][data-deployment="${id}"][data-state="succeeded"]`), 'unset-rollout-succeeded', 120_000);
  const d = (await cp.client.deployment(id)).deployment;
  assert.equal(d.kind, 'secrets', JSON.stringify(d.kind));
  assert.equal(d.state, 'succeeded', await deploymentLog(cp.client, id));
  const s = await statusOf(app.project, 'web');
  assert.equal(s.currentRelease?.number, d.releaseNumber);
  assert.equal(s.currentRelease?.secretsVersion, listAfter.version, 'the live release runs with the new secrets version');
  // What the replicas really run with (Docker's view of their environment).
  const running = s.replicas.filter((r) => r.state === 'running');
  assert.ok(running.length >= 2, JSON.stringify(s.replicas.map((r) => [r.name, r.state])));
  for (const r of running) {
    const envList = (await docker.getContainer(r.name).inspect()).Config.Env ?? [];
    assert.ok(!envList.some((e) => e.startsWith(`${SECRET_GONE}=`)), `${r.name} runs without ${SECRET_GONE}`);
    assert.ok(envList.includes(`${SECRET_KEPT}=${VALUE_KEPT}`), `${r.name} still has ${SECRET_KEPT}`);
  }
  for (const value of [VALUE_GONE, VALUE_KEPT]) {
    assert.equal(await inPage(value), false, 'no secret value in the page');
    assert.deepEqual(answersWith(value), [], 'no answer the browser received carried a secret value');
  }
  await page.screenshot({ path: path.join(OUT, 'service-secret-unset.png'), fullPage: true });
  assertNoPageErrors();
});

test('Job history: a scheduled job’s runs are listed with their state, exit code and release as the API lists them', async (t) => {
  const { page } = b;
  // Every 5 s; a run started in the first half of a 10 s period exits 0, in the second half 3:
  // the ticks alternate between success and failure (container start-up shifts a run by ~1 s).
  const job = {
    build: '.',
    command: ['node', '-e', "const s = new Date().getUTCSeconds(); console.log('cron run at second ' + s); process.exit(s % 10 < 5 ? 0 : 3)"],
    schedule: '*/5 * * * * *',
  };
  const { deployments } = await deployDirectory(cp.client, { ...mix.write({ version: 'mix', replicas: 1, services: { cron: job } }), services: ['cron'] });
  const jd = await waitDeployment(cp.client, deployments[0]!.id);
  assert.equal(jd.state, 'succeeded', await deploymentLog(cp.client, jd.id));
  const apiRuns = async (): Promise<JobRunView[]> => (await cp.client.jobRuns(mix.project, { env: ENV, service: 'cron', limit: 100 })).runs;
  const runs = await until('a succeeded and a failed run', async () => {
    const r = await apiRuns();
    return r.some((x) => x.status === 'succeeded') && r.some((x) => x.status === 'failed') && r;
  }, { timeoutMs: 60_000, context: () => cp.tail(20) });
  t.diagnostic(`runs: ${runs.map((r) => `#${r.id} ${r.status} ${r.exitCode}`).join(', ')}`);
  const failedRun = runs.find((r) => r.status === 'failed')!;
  assert.equal(failedRun.exitCode, 3, JSON.stringify(failedRun));
  assert.equal(runs.find((r) => r.status === 'succeeded')!.exitCode, 0);

  await openService(mix.project, 'cron', 'Jobs');
  assert.equal(collapse(await page.getByTestId('replica-health').textContent()), 'runs on schedule');
  const table = page.getByTestId('job-runs');
  await shown(table.locator('tr[data-run]').first(), 'job-runs');
  const readRuns = () =>
    table.locator('tbody tr[data-run]').evaluateAll((trs) =>
      trs.map((tr) => {
        const td = tr.querySelectorAll('td');
        const text = (i: number) => (td[i]?.textContent ?? '').replace(/\s+/g, ' ').trim();
        return {
          id: Number(tr.getAttribute('data-run')),
          scheduledAt: td[0]?.querySelector('time')?.getAttribute('datetime') ?? null,
          status: text(1),
          exit: text(2),
          exitFlagged: td[2]?.classList.contains('error') ?? false,
          release: text(4),
          note: text(5),
        };
      }),
    );
  const expectedRow = (r: JobRunView) => ({
    id: r.id,
    scheduledAt: r.scheduledAt,
    status: r.status.replace(/_/g, ' '),
    exit: r.exitCode === null ? '—' : String(r.exitCode),
    exitFlagged: r.exitCode !== null && r.exitCode !== 0,
    release: r.release === null ? '—' : `v${r.release}`,
    note: r.note ?? '',
  });
  // The schedule goes on: compare the runs the page loaded with the API's runs up to the newest
  // of them (a run still going when the page loaded is re-read by reopening the tab).
  const reopen = async () => {
    await selectTab('Overview');
    await selectTab('Jobs');
    await table.locator('tr[data-run]').first().waitFor({ timeout: 10_000 });
  };
  const shownRuns = await settle('job runs', async () => {
    const pageRows = await readRuns();
    // An empty table never agrees (the API has runs).
    const newest = pageRows.length > 0 ? Math.max(...pageRows.map((r) => r.id)) : Infinity;
    return { page: pageRows, api: (await apiRuns()).filter((r) => r.id <= newest).map(expectedRow) };
  }, { timeoutMs: 40_000, refresh: reopen });
  assert.ok(shownRuns.some((r) => r.status === 'succeeded' && r.exit === '0'), 'a succeeded run with exit 0 is listed');
  assert.ok(shownRuns.some((r) => r.status === 'failed' && r.exit === '3' && r.exitFlagged), 'a failed run with exit 3 is listed and flagged');
  assert.ok(shownRuns.every((r) => r.release === `v${jd.releaseNumber}` || r.status === 'skipped'), `every run ran the job's release v${jd.releaseNumber}`);
  assert.ok(shownRuns.some((r) => r.id === failedRun.id), `the failed run #${failedRun.id} is listed`);
  await page.screenshot({ path: path.join(OUT, 'service-job-history.png'), fullPage: true });
  assertNoPageErrors();
});

/** What the canary card shows. */
async function readCanary(card: Locator) {
  return card.evaluate((el) => {
    const norm = (s: string | null | undefined) => (s ?? '').replace(/\s+/g, ' ').trim();
    return {
      title: norm(el.querySelector('h2')?.textContent),
      verdict: norm(el.querySelector('[data-testid="canary-verdict"]')?.textContent),
      paused: [...el.querySelectorAll('.badge')].some((x) => norm(x.textContent) === 'paused'),
      stepLine: norm(el.querySelector('.spread .row .muted.small')?.textContent),
      split: el.querySelector('.split')?.getAttribute('aria-label') ?? null,
      legend: norm(el.querySelector('.legend')?.textContent),
      sides: [...el.querySelectorAll('tr[data-side]')].map((tr) => [...tr.querySelectorAll('td')].map((td) => norm(td.textContent))),
      windows: norm(el.querySelector(':scope > p.small.muted:last-of-type')?.textContent),
    };
  });
}

/** The card as the page draws it from the API's live canary view (CanarySplit.svelte). */
function expectedCanary(c: LiveCanaryView) {
  const share = Math.max(0, Math.min(100, c.canary.sharePercent));
  const side = (name: string, s: LiveCanaryView['canary']) => [name, `v${s.release}`, String(s.replicas), String(s.requests), s.errorRate === null ? '—' : percent(s.errorRate), ms(s.p99Ms)];
  return {
    title: `Canary v${c.release} vs v${c.stableRelease}`,
    verdict: c.verdictSoFar,
    paused: c.paused,
    stepLine: `step ${c.step}/${c.steps} · ${c.phase}${c.secondsToNextStep !== null ? ` · next step in ${c.secondsToNextStep} s` : ''}`,
    split: `${share.toFixed(0)} % of new requests to v${c.release}, ${(100 - share).toFixed(0)} % to v${c.stableRelease}`,
    legend: `v${c.release} ${share.toFixed(0)} % (step asks ${c.weight} %) v${c.stableRelease} ${(100 - share).toFixed(0)} %`,
    sides: [side('canary', c.canary), side('stable', c.stable)],
    windows: `${c.windowsJudged} analysis windows judged${c.lastVerdict ? `, the last: ${c.lastVerdict}` : ''}; ${c.failures} of ${c.failureLimit} allowed failures.`,
  };
}

/** Starts a canary of web (one step at 20 % that would last 10 min; analysis never reaches a verdict) and waits for its step. */
async function startCanary(version: string): Promise<{ id: string; canary: LiveCanaryView }> {
  const deploy = { strategy: 'canary', steps: [{ weight: 20, pause: '10m' }], analysis: { interval: '60s', min_requests: 100_000 } };
  const { deployments } = await deployDirectory(cp.client, app.write(webVariant(version, deploy)));
  const id = deployments[0]!.id;
  const canary = await until(`the canary ${id} at its step`, async () => {
    const c = (await statusOf(app.project, 'web')).canary;
    return c && c.deploymentId === id && c.phase === 'stepping' && c.step === 1 && c.canary.replicas === 1 ? c : undefined;
  }, { timeoutMs: 120_000, context: () => cp.tail(20) });
  return { id, canary };
}

test('Canary split: paused from the page, the split and per-side figures shown as the API reports them (and as the responses say); promoted from the page; a second one aborted from the page', async (t) => {
  const { page } = b;
  await openService(app.project, 'web', 'Overview');
  const stable = (await statusOf(app.project, 'web')).currentRelease!.number;
  const { id, canary: c0 } = await startCanary('canary-one');
  assert.equal(c0.stableRelease, stable);
  const card = page.getByTestId('canary');
  await shown(card, 'canary-card', 20_000);
  assert.ok(!c0.paused, 'not paused yet');
  assert.ok(c0.secondsToNextStep !== null, 'the step counts down');

  // Pause from the page: the API reports the canary paused, the step no longer counting down.
  await card.getByRole('button', { name: 'Pause', exact: true }).click();
  await shown(page.getByTestId('toast').filter({ hasText: 'Canary paused' }), 'canary-paused-toast');
  const paused = await until('the API to report the canary paused', async () => {
    const c = (await statusOf(app.project, 'web')).canary;
    return c?.paused ? c : undefined;
  }, { timeoutMs: 10_000 });
  assert.equal(paused.secondsToNextStep, null);
  await shown(card.getByRole('button', { name: 'Resume', exact: true }), 'canary-resume-button');

  // Known traffic through the edge while it is held at 20 %: which side answered each request.
  const sent = await sendAll(app.domain, Array.from({ length: 50 }, () => '/'), 1);
  const answeredBy = { canary: sent.filter((s) => s.release === `v${paused.release}`).length, stable: sent.filter((s) => s.release === `v${stable}`).length };
  t.diagnostic(`50 requests at the paused step: ${answeredBy.canary} answered by the canary v${paused.release}, ${answeredBy.stable} by v${stable}`);
  assert.equal(answeredBy.canary + answeredBy.stable, 50, `every request answered by one side: ${JSON.stringify(sent.map((s) => s.release))}`);
  assert.ok(sent.every((s) => s.status === 200));
  // The figures cover the last 60 s: the API counts exactly those answers per side (after its flush).
  const figures = await until('the API to count the requests per side', async () => {
    const c = (await statusOf(app.project, 'web')).canary;
    return c && c.canary.requests + c.stable.requests === 50 ? c : undefined;
  }, { timeoutMs: 15_000 });
  assert.deepEqual({ canary: figures.canary.requests, stable: figures.stable.requests }, answeredBy, 'per-side requests = the answers the test received');
  assert.deepEqual([figures.canary.errors, figures.stable.errors], [0, 0]);

  // The page: everything the card shows, as the API reports it.
  const shownCard = await settle('canary card', async () => {
    const c = (await statusOf(app.project, 'web')).canary;
    assert.ok(c, 'the canary still runs');
    return { page: await readCanary(card), api: expectedCanary(c) };
  });
  assert.ok(shownCard.paused, 'the card shows it paused');
  // The known split: 1 canary replica at weight 1, 2 stable at 2 each → 20 %.
  assert.deepEqual(
    { share: figures.canary.sharePercent, weights: [figures.canary.edgeWeight, figures.stable.edgeWeight], replicas: [figures.canary.replicas, figures.stable.replicas] },
    { share: 20, weights: [1, 4], replicas: [1, 2] },
  );
  assert.equal(shownCard.split, `20 % of new requests to v${figures.release}, 80 % to v${stable}`);
  await page.screenshot({ path: path.join(OUT, 'service-canary-paused.png'), fullPage: true });

  // Promote from the page (confirmed): the deployment succeeds, promoted by hand; the canary release is live.
  await card.getByRole('button', { name: 'Promote', exact: true }).click();
  const promoteDialog = page.getByRole('dialog', { name: `Promote v${figures.release} now?` });
  await shown(promoteDialog, 'canary-promote-dialog');
  await promoteDialog.getByRole('button', { name: 'Promote', exact: true }).click();
  await shown(page.getByTestId('toast').filter({ hasText: `Promoting v${figures.release} to all traffic` }), 'canary-promote-toast');
  const promoted = await waitDeployment(cp.client, id);
  assert.equal(promoted.state, 'succeeded', await deploymentLog(cp.client, id));
  assert.match(promoted.canary?.outcome ?? '', /promoted by hand at step 1\/1/);
  liveVersion = 'canary-one';
  const afterPromote = await statusOf(app.project, 'web');
  assert.equal(afterPromote.currentRelease?.number, figures.release);
  assert.equal(afterPromote.canary ?? null, null);
  await card.waitFor({ state: 'detached', timeout: 20_000 }).catch((err: unknown) => explain('canary-card-gone', err));
  await settle('live release after the promotion', async () => ({ page: await headerRelease(), api: `v${(await statusOf(app.project, 'web')).currentRelease?.number}` }));
  await shown(page.locator(`[data-testid="timeline"] tr[data-deployment="${id}"][data-state="succeeded"]`), 'canary-promoted-row');

  // A second canary, aborted from the page (confirmed): rolled back, the promoted release stays live.
  const second = await startCanary('canary-two');
  await shown(card, 'canary-card-2', 20_000);
  await settle('second canary card', async () => {
    const c = (await statusOf(app.project, 'web')).canary;
    assert.ok(c, 'the second canary runs');
    // The countdown moves every second: compare the rest.
    const { stepLine: _p, ...pageRest } = await readCanary(card);
    const { stepLine: _a, ...apiRest } = expectedCanary(c);
    return { page: pageRest, api: apiRest };
  });
  assert.equal(second.canary.stableRelease, figures.release);
  await card.getByRole('button', { name: 'Abort', exact: true }).click();
  const abortDialog = page.getByRole('dialog', { name: 'Abort the canary?' });
  await shown(abortDialog, 'canary-abort-dialog');
  assert.match(collapse(await abortDialog.innerText()), new RegExp(`All traffic goes back to v${figures.release}`));
  await abortDialog.getByRole('button', { name: 'Abort canary', exact: true }).click();
  const aborted = await waitDeployment(cp.client, second.id);
  assert.equal(aborted.state, 'rolled_back', await deploymentLog(cp.client, second.id));
  assert.equal(aborted.errorCode, 'SLW_CANARY_ABORTED');
  const afterAbort = await statusOf(app.project, 'web');
  assert.equal(afterAbort.currentRelease?.number, figures.release, 'the promoted release is still live');
  assert.equal(afterAbort.canary ?? null, null);
  assert.ok(afterAbort.replicas.every((r) => r.release === figures.release), `only v${figures.release} replicas left: ${JSON.stringify(afterAbort.replicas.map((r) => r.name))}`);
  await card.waitFor({ state: 'detached', timeout: 20_000 }).catch((err: unknown) => explain('canary-card-gone-2', err));
  await shown(page.locator(`[data-testid="timeline"] tr[data-deployment="${second.id}"][data-state="rolled_back"]`), 'canary-aborted-row', 20_000);
  const served = await sendAll(app.domain, Array.from({ length: 20 }, () => '/'), 4);
  assert.deepEqual([...new Set(served.map((s) => s.release))], [`v${figures.release}`], 'the edge serves the promoted release only');
  await page.screenshot({ path: path.join(OUT, 'service-canary-aborted.png'), fullPage: true });
  assertNoPageErrors();
});

test('Overview figures: a known mix through the edge (N requests, K answering 500, some slow) shows the request rate, error rate and p95 the API reports and the mix dictates', async (t) => {
  const { page } = b;
  // N = 300: 249 fast (/), K = 21 answering 500 (/status/500), 30 slow (/slow?ms=320). The 30
  // slowest are the slow ones, so the p95 (the 285th smallest) is one of them.
  const N = 300;
  const K = 21;
  const SLOW = 30;
  const DELAY = 320;
  const paths = [
    ...Array.from({ length: N - K - SLOW }, () => '/'),
    ...Array.from({ length: K }, () => '/status/500'),
    ...Array.from({ length: SLOW }, () => `/slow?ms=${DELAY}`),
  ].sort(() => Math.random() - 0.5);
  const sent = await sendAll(mix.domain, paths, 8);
  assert.equal(sent.filter((s) => s.status === 500).length, K, 'the app answered 500 exactly K times');
  assert.equal(sent.filter((s) => s.status === 200).length, N - K);

  const group = async () => (await cp.client.metricsOverview(mix.project, { env: ENV, since: '1h' })).groups.find((g) => g.service === 'web');
  await until('the API to count the whole mix', async () => (await group())?.requests === N, { timeoutMs: 30_000, context: () => cp.tail(10) });
  const overview = await cp.client.metricsOverview(mix.project, { env: ENV, since: '1h' });
  const g = overview.groups.find((x) => x.service === 'web')!;

  // The API against the mix. Error rate: exactly K/N.
  assert.equal(g.statusCounts['5xx'], K);
  assert.equal(g.errorRate, K / N);
  // Rate: N over the window (1 h back from now, its start on a minute boundary), rounded to 0.001 by the API.
  const windowSec = (Date.parse(overview.to) - Date.parse(overview.from)) / 1000;
  assert.ok(Math.abs(g.ratePerSec - N / windowSec) <= 0.0006, `rate ${g.ratePerSec}/s ≈ ${N} / ${windowSec} s`);
  // p95: the API reports the upper bound of the histogram bucket holding the 285th smallest
  // edge-measured duration. The edge's own durations (its ring of recent requests) give that
  // bucket exactly; the client's measurements bound them: a slow request cannot take less than
  // the app's 320 ms delay at the edge, nor more than the client saw (the client's time adds
  // the loopback connection and the edge's overhead to the edge's).
  const rank = Math.ceil(0.95 * N);
  const ring = (await cp.client.recentRequests(mix.project, 'web', { env: ENV, limit: 1000 })).requests;
  assert.equal(ring.length, N, 'the edge recorded every request of the mix');
  const edgeP95 = ring.map((r) => r.durationMs).sort((x, y) => x - y)[rank - 1]!;
  const clientP95 = sent.map((s) => s.ms).sort((x, y) => x - y)[rank - 1]!;
  t.diagnostic(`p95: API ${g.latencyMs?.p95} ms; the 285th smallest at the edge ${edgeP95} ms, at the client ${clientP95.toFixed(1)} ms; rate ${g.ratePerSec}/s over ${windowSec} s`);
  assert.ok(edgeP95 >= DELAY && edgeP95 <= Math.ceil(clientP95), `the edge's p95 ${edgeP95} ms lies between the delay ${DELAY} ms and the client's ${clientP95.toFixed(1)} ms`);
  assert.equal(g.latencyMs?.p95, LATENCY_BOUNDS_MS[bucketIndex(edgeP95)], 'the p95 is the bound of the bucket holding the true p95');
  assert.ok(g.latencyMs!.p95 >= LATENCY_BOUNDS_MS[bucketIndex(DELAY)]! && g.latencyMs!.p95 <= LATENCY_BOUNDS_MS[bucketIndex(clientP95)]!, 'within the buckets of the delay and the client-measured p95');

  // The page (it reloads every 10 s): the web row of dsvcmix shows those figures.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Overview', exact: true }).click();
  const row = page.locator(`section[aria-labelledby="env-${mix.project}-${ENV}"] tr[data-service="web"]`);
  await shown(row, 'overview-mix-row');
  const readRow = () =>
    row.evaluate((tr) => {
      const td = tr.querySelectorAll(':scope > td');
      const norm = (s: string | null | undefined) => (s ?? '').replace(/\s+/g, ' ').trim();
      return {
        requests: norm(td[3]?.textContent),
        errors: norm(td[4]?.textContent),
        errorsFlagged: td[4]?.classList.contains('error') ?? false,
        p95: norm(td[5]?.querySelector(':scope > span.small')?.textContent),
        problems: [...(td[0]?.querySelectorAll('.error.small') ?? [])].map((p) => norm(p.textContent)),
        failing: tr.classList.contains('failing'),
      };
    });
  const figures = await settle('overview figures of dsvcmix/web', async () => {
    const m = await group();
    assert.ok(m, 'the API has figures for dsvcmix/web');
    const flagged = m.requests >= 20 && m.errorRate >= 0.05;
    return {
      page: await readRow(),
      api: { requests: rate(m.ratePerSec), errors: percent(m.errorRate), errorsFlagged: m.errorRate >= 0.05, p95: ms(m.latencyMs?.p95), problems: flagged ? [`${percent(m.errorRate)} errors`] : [], failing: flagged },
    };
  }, { timeoutMs: 30_000 });
  // And against the mix itself, as the page rounds: 21/300 = 7.0 %; 300 per ~3600 s = 0.08/s.
  assert.equal(figures.errors, percent(K / N));
  assert.equal(figures.errors, '7.0 %');
  assert.equal(figures.requests, rate(N / 3600));
  assert.equal(figures.p95, `${LATENCY_BOUNDS_MS[bucketIndex(edgeP95)]} ms`);
  assert.deepEqual(figures.problems, ['7.0 % errors'], 'the row is flagged for its error rate');
  // The p95 sparkline draws the series the API has (a line through the points with traffic).
  const series = (await cp.client.metricsOverviewSeries(mix.project, { env: ENV, since: '1h' })).series.find((x) => x.service === 'web');
  assert.ok(series?.points.some((p) => p.p95 !== null), 'the API has a p95 series point');
  assert.equal(await row.getByRole('img', { name: 'p95 latency over the last hour of web' }).locator('path').count(), 1, 'the sparkline draws the p95 series');
  await page.screenshot({ path: path.join(OUT, 'overview.png'), fullPage: true });
  assertNoPageErrors();
});

test('Recent requests: the Metrics tab lists them as the API does, narrowed by status (a preset or a typed list of classes and codes); a bad list names the entry', async () => {
  const { page } = b;
  // dsvcmix/web got the mix above (21 answered 500); now two 404s and a 429, the newest.
  for (const st of [404, 429, 404]) assert.equal((await edgeGet(mix.domain, `/status/${st}`)).status, st);
  const api = async (status?: string) => (await cp.client.recentRequests(mix.project, 'web', { env: ENV, limit: 50, ...(status ? { status } : {}) })).requests.map((r) => r.status);
  await until('the 4xx answers in the ring', async () => (await api('4xx')).length === 3, { timeoutMs: 15_000, context: () => cp.tail(10) });

  await openService(mix.project, 'web');
  await selectTab('Metrics');
  const card = page.getByTestId('recent-requests');
  const rows = card.locator('tbody tr[data-status]');
  await shown(rows.first(), 'recent-requests');
  const read = () => rows.evaluateAll((trs) => trs.map((tr) => Number(tr.getAttribute('data-status'))));
  const all = await settle('recent requests', async () => ({ page: await read(), api: await api() }));
  assert.equal(all.length, 50, 'the newest 50');
  assert.deepEqual(all.slice(0, 3), [404, 429, 404], 'newest first');

  await card.getByRole('button', { name: '5xx', exact: true }).click();
  const fiveXX = await settle('recent 5xx', async () => ({ page: await read(), api: await api('5xx') }));
  assert.deepEqual(fiveXX, Array.from({ length: 21 }, () => 500), 'the 21 answers of 500 of the mix');

  const input = card.getByTestId('requests-status');
  await input.fill('429, 404');
  assert.deepEqual(await settle('recent 404,429', async () => ({ page: await read(), api: await api('404,429') })), [404, 429, 404]);

  await input.fill('4xx,7');
  const problem = card.getByTestId('requests-status-problem');
  await shown(problem, 'requests-status-problem');
  assert.equal(collapse(await problem.textContent()), 'Status: "7" is neither a status class (1xx to 5xx) nor a status code (100 to 599); expected status classes and codes separated by commas, such as 5xx, 4xx,5xx, 404 or 404,500');
  assert.equal(await input.getAttribute('aria-invalid'), 'true');
  assert.deepEqual(await read(), [404, 429, 404], 'a bad list is not sent: the last good filter stays');

  await input.fill('418');
  const empty = card.getByTestId('requests-empty');
  await shown(empty, 'requests-empty');
  assert.match(collapse(await empty.textContent()), /^No recent request answered with 418 among the \d[\d,]* this server keeps for web in production\.$/);
  await page.screenshot({ path: path.join(OUT, 'service-recent-requests.png'), fullPage: true });
  assertNoPageErrors();
});

test('Restarts: a replica killed by hand is replaced by a repair; the Replicas tab shows its slot’s restart and the service’s total as the API reports them', async () => {
  const { page } = b;
  const before = await statusOf(app.project, 'web');
  const live = before.currentRelease!.number;
  const victim = before.replicas.find((r) => r.release === live && r.slot !== null);
  assert.ok(victim, `a replica of v${live} with a slot: ${JSON.stringify(before.replicas)}`);
  await docker.getContainer(victim.name).kill();
  const after = await until('the repair to replace the killed replica', async () => {
    const s = await statusOf(app.project, 'web');
    return s.restarts.last24h > before.restarts.last24h && s.readyReplicas === s.desiredReplicas && !s.replicas.some((r) => r.name === victim.name) && s;
  }, { timeoutMs: 90_000, context: () => cp.tail(30) });
  const replacement = after.replicas.find((r) => r.release === live && r.slot === victim.slot)!;
  assert.equal(replacement.restarts, victim.restarts + 1, 'the slot counts the repair');

  await openService(app.project, 'web');
  await selectTab('Replicas');
  const total = page.getByTestId('service-restarts');
  await shown(total, 'service-restarts');
  assert.match(collapse(await total.innerText()), new RegExp(`${after.restarts.last24h} restarts? in 24 h`));
  const row = page.locator(`tr[data-replica="${replacement.name}"]`);
  await shown(row, 'replacement-row');
  const cell = row.locator(`td[title="slot ${replacement.slot} of v${live}"]`);
  await shown(cell, 'replacement-restarts-cell');
  assert.equal(collapse(await cell.innerText()), String(replacement.restarts));
  assertNoPageErrors();
});
