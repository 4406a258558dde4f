/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The dashboard's Servers, Audit, Tokens and Certificates pages in a real browser (Debian's
 * Chromium, headless) against a real control plane, Docker and HAProxy: each page shows what
 * the API says (the same data fetched with the typed client and compared field by field).
 * Servers: the host's Docker engine, edge and readiness checks, CPU/memory/disk figures.
 * Audit: a deploy, a token creation and a refused call listed newest first with actor, action
 * and target; the project, actor and outcome filters narrow the rows. Tokens: a token created
 * from the page is listed with its scope, project and expiry, its secret shown once (never in
 * the page or an API answer after a reload), and revoking it from the page ends it. Certificates:
 * the local CA's certificate of the project's *.localhost domain with its domains, issuer and
 * dates, the issuers card, and "Renew now". Alerts: a disk alert fired by server-wide defaults set
 * through the API is counted by the navigation's badge and listed as the API lists it; silenced
 * from the page, then the silence ended from the page; resolved once its rule is off. Screenshots
 * go to test-output/dashboard-pages/.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Locator } from 'playwright-core';
import { ControlPlaneProcess } from './support/control-plane-process';
import { TestProject } from './support/test-project';
import { deployAndWait, deploymentLog } from './support/wait-deployment';
import { openBrowser, testOutputDir, type BrowserSession } from './support/browser';
import { collapse, pageChecks, signIn } from './support/page-checks';
import { until } from './support/until';
import { ApiError, SlipwayClient } from '../src/client/api-client';
import { shortIssuer } from '../src/core/tls/issuer-name';
import type { CertificateView, ServerView } from '../src/core/contract/views';
import type { AlertView, SilenceView } from '../src/core/contract/alerts';
import { silences as covers } from '../src/core/alert-records';
import { bytes } from '../web/src/lib/format';

const cp = await ControlPlaneProcess.create('dashpages');
const app = new TestProject('dpages');
const OUT = testOutputDir('dashboard-pages');
const PASSWORD = 'dashboard-pages-password';
const USER = 'alice';
let b: BrowserSession;

before(async () => {
  // Host samples every second, so the Servers page has figures and sparklines by the time it is opened;
  // the alert rules judged every 500 ms, so the Alerts test's disk alert fires within seconds.
  await cp.start({ SLIPWAY_STATS_INTERVAL: '1s', SLIPWAY_ALERT_INTERVAL: '500ms' });
  await cp.client.createBaseImage('node');
  await cp.client.createUser({ name: USER, password: PASSWORD, scope: 'admin' });
  const d = await deployAndWait(cp.client, app.write({ version: 'one', replicas: 1 }));
  assert.equal(d.state, 'succeeded', await deploymentLog(cp.client, d.id));
  b = await openBrowser(`http://127.0.0.1:${cp.apiPort}`);
  // tsx (esbuild keepNames) wraps named functions inside the callbacks given to evaluate() in __name(): the page needs it too.
  await b.context.addInitScript({ content: "globalThis.__name = (f) => f;" });
  await signIn(b, USER, PASSWORD, checks);
});

after(async () => {
  await b?.close();
  await cp.destroy();
});

// ---------------------------------------------------------------------------------------------
// Helpers: diagnostics, navigation, page-vs-API comparison.

const checks = pageChecks(() => b, OUT, () => cp.tail(20));
const { explain, shown, settle, pageText, assertNoPageErrors } = checks;

/** Opens a page from the main navigation and waits for its title; the link is then marked current. */
async function openFromNav(label: string, title: string): Promise<void> {
  const nav = b.page.getByRole('navigation', { name: 'Main' });
  const link = nav.getByRole('link', { name: label, exact: true });
  await shown(link, `nav-${label}`);
  await link.click();
  await shown(b.page.getByRole('heading', { level: 1, name: title, exact: true }), `open-${label}`);
  assert.equal(await link.getAttribute('aria-current'), 'page', `the ${label} link is marked as the current page`);
  assert.equal(new URL(b.page.url()).pathname, `/${label.toLowerCase()}`);
}

/** The <dt>/<dd> pairs of a definition list, whitespace collapsed. */
function definitions(dl: Locator): Promise<Record<string, string>> {
  return dl.evaluate((el) => {
    const out: Record<string, string> = {};
    for (const dt of el.querySelectorAll('dt')) {
      const dd = dt.nextElementSibling;
      out[(dt.textContent ?? '').replace(/\s+/g, ' ').trim()] = (dd?.textContent ?? '').replace(/\s+/g, ' ').trim();
    }
    return out;
  });
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');


// ---------------------------------------------------------------------------------------------

test('Servers: the host card shows the Docker engine, the edge and the readiness checks the API reports, with CPU, memory and disk figures', async () => {
  const { page } = b;
  await openFromNav('Servers', 'Servers');
  const root = page.getByTestId('servers-page');
  const { servers } = await cp.client.servers();
  assert.ok(servers.length >= 1, `the API reports a server: ${JSON.stringify(servers)}`);
  await shown(root.locator(`section[data-server="${servers[0]!.name}"]`), 'servers-card');
  const cards = await root.locator('section[data-server]').evaluateAll((els) => els.map((e) => e.getAttribute('data-server')));
  assert.deepEqual(cards, servers.map((s) => s.name), `one card per server the API lists\n${await pageText()}`);
  const refresh = () => page.getByRole('button', { name: 'Refresh', exact: true }).click();

  for (const name of cards as string[]) {
    const card = root.locator(`section[data-server="${name}"]`);
    const apiServer = async (): Promise<ServerView> => {
      const s = (await cp.client.servers()).servers.find((x) => x.name === name);
      assert.ok(s, `the API still lists ${name}`);
      return s;
    };
    assert.equal(await card.getByRole('heading', { level: 2 }).first().innerText(), name);

    // Header badges: Docker up/down and the edge's state.
    await settle(`${name}: Docker and edge badges`, async () => {
      const s = await apiServer();
      return {
        page: { docker: collapse(await card.locator('.spread .badge').first().textContent()), edge: collapse(await card.getByTestId('edge-status').textContent()) },
        api: { docker: `Docker ${s.docker.ok ? 'up' : 'down'}`, edge: `edge ${s.edge.running ? 'running' : 'down'}` },
      };
    }, { refresh });
    const s0 = await apiServer();
    assert.ok(s0.docker.ok, `Docker answers on this host (the tests need it): ${JSON.stringify(s0.docker)}`);
    assert.ok(s0.edge.running, `the edge runs: ${JSON.stringify(s0.edge)}`);
    assert.equal(s0.edge.httpPort, cp.httpPort, 'the API reports the edge port the control plane was started with');

    // Docker engine: every fact as the API reports it (formatted as the page does).
    const dockerFacts = await settle(`${name}: Docker engine facts`, async () => {
      const s = await apiServer();
      const d = s.docker;
      const expected: Record<string, string> = {
        Version: d.version ?? '—',
        OS: d.os ?? '—',
        Kernel: d.kernel ?? '—',
        CPUs: String(d.cpus ?? '—'),
        Memory: bytes(d.memoryBytes),
        Containers: `${d.containersRunning ?? '—'} running`,
        Images: String(d.images ?? '—'),
        'Live restore': d.liveRestore === null ? '—' : d.liveRestore ? 'on' : 'off (containers stop when dockerd restarts)',
      };
      if (s.disk) expected.Disk = collapse(`${s.disk.low ? 'low disk ' : ''}${s.disk.detail}${s.disk.low ? ' New builds and deployments are refused until space is freed.' : ''}`);
      return { page: await definitions(card.locator(`section[aria-labelledby="docker-${name}"] dl`)), api: expected };
    }, { refresh });
    assert.ok(s0.docker.version, 'the API reports the engine version');
    assert.equal(dockerFacts.Version, s0.docker.version, `the engine version: ${JSON.stringify(dockerFacts)}`);

    // Edge (HAProxy): state, version, port, pid, reloads.
    await settle(`${name}: edge facts`, async () => {
      const e = (await apiServer()).edge;
      return {
        page: await definitions(card.locator(`section[aria-labelledby="edge-${name}"] dl`)),
        api: { State: e.running ? 'running' : 'down', Version: e.version ?? '—', 'HTTP port': String(e.httpPort), PID: String(e.pid ?? '—'), Reloads: String(e.reloads) },
      };
    }, { refresh });
    assert.equal(await card.getByTestId('edge-down-hint').count(), 0, 'no "edge down" hint while the edge runs');

    // Host figures: the newest sample's CPU (with the core count), memory and disk. The values move
    // with every sample; the totals and the core count do not.
    const host = card.locator(`section[aria-labelledby="host-${name}"]`);
    const metrics = host.locator('.metric');
    await shown(metrics.nth(2), `${name}-host-figures`, 30_000);
    const stats = await cp.client.serverStats(name, { since: '1h' });
    const latest = stats.points.at(-1);
    assert.ok(latest, `the API has host samples for ${name}: ${JSON.stringify(stats).slice(0, 500)}`);
    const [cpuLabel, cpuValue, memValue, diskValue] = await Promise.all([
      metrics.nth(0).locator('.muted.small').first().innerText(),
      metrics.nth(0).locator('.value').innerText(),
      metrics.nth(1).locator('.value').innerText(),
      metrics.nth(2).locator('.value').innerText(),
    ]);
    const figures = `CPU: ${cpuLabel} ${cpuValue}; memory: ${memValue}; disk: ${diskValue}; API's newest sample: ${JSON.stringify(latest)}`;
    assert.equal(collapse(cpuLabel), `CPU (${latest.cpus} cores)`, figures);
    assert.match(collapse(cpuValue), /^\d+\.\d %$/, `a CPU percentage (two samples exist): ${figures}`);
    assert.match(collapse(memValue), new RegExp(`^\\d+(\\.\\d)? [KMGT]?i?B of ${bytes(latest.memoryTotalBytes).replace('.', '\\.')} · \\d+ %$`), figures);
    assert.match(collapse(diskValue), new RegExp(`^\\d+(\\.\\d)? [KMGT]?i?B of ${bytes(latest.diskTotalBytes).replace('.', '\\.')} · \\d+(\\.\\d)? [KMGT]?i?B free$`), figures);
    const meter = host.locator(`meter[aria-label="disk use of ${name}"]`);
    const ratio = Number(await meter.getAttribute('value'));
    assert.ok(ratio > 0 && ratio < 1, `disk meter value ${ratio}: ${figures}`);
    for (const label of [`host CPU over the last hour of ${name}`, `host memory use over the last hour of ${name}`]) {
      const line = host.getByRole('img', { name: label });
      assert.equal(await line.count(), 1, `sparkline "${label}"`);
      assert.equal(await line.locator('path').count(), 1, `sparkline "${label}" draws the samples (${stats.points.length} in the API)`);
    }
    assert.match(collapse(await host.textContent()), /Sampled (just now|[\d.]+ s ago)/, `a recent sample: ${collapse(await host.textContent())}`);
    assert.doesNotMatch(collapse(await host.textContent()), /no newer sample/);
  }

  // Readiness: the overall status and every check, as GET /readyz reports them.
  const readinessCard = root.getByTestId('readiness');
  await shown(readinessCard.locator('tr[data-check]').first(), 'servers-readiness');
  await settle('readiness', async () => {
    const report = await cp.client.readiness();
    const rows = await readinessCard.locator('tr[data-check]').evaluateAll((els) =>
      els.map((e) => `${e.getAttribute('data-check')}: ${(e.querySelector('.badge')?.textContent ?? '').trim()}`).sort(),
    );
    return {
      page: { status: collapse(await root.getByTestId('readiness-status').textContent()), checks: rows },
      api: { status: report.status, checks: Object.entries(report.checks).map(([k, c]) => `${k}: ${c.status === 'pass' ? 'ok' : 'failing'}`).sort() },
    };
  }, { refresh });
  const report = await cp.client.readiness();
  assert.equal(report.status, 'healthy', `the control plane is healthy after the deploy: ${JSON.stringify(report)}`);
  assert.ok(collapse(await readinessCard.textContent()).includes(`Slipway ${report.version}.`), `the version ${report.version} is shown\n${await pageText()}`);

  await page.screenshot({ path: path.join(OUT, 'servers.png'), fullPage: true });
  assertNoPageErrors();
});

test('Audit: the deploy, a token creation and a refused call are listed newest first with actor, action and target as the API returns them; the filters narrow the rows', async () => {
  const { page } = b;
  // Something more to audit: a token created through the API (for the project) and a refused call.
  const probe = await cp.client.createToken({ name: 'audit-probe', scope: 'read', project: app.project });
  const nobody = new SlipwayClient({ url: `http://127.0.0.1:${cp.apiPort}`, token: 'slw_not-a-token-of-this-server' });
  await assert.rejects(nobody.whoami(), (err: unknown) => err instanceof ApiError && err.status === 401);
  // The audit hook writes after the answer: wait until the API lists both.
  const entriesNow = await until(
    'the token creation and the refusal in the audit log',
    async () => {
      const { entries } = await cp.client.audit({ limit: 100 });
      const created = entries.some((e) => e.action === 'POST /api/v1/tokens' && e.target === `token ${probe.tokenInfo.id}`);
      const refused = entries.some((e) => e.action === 'GET /api/v1/whoami' && e.outcome === 'denied');
      return created && refused && entries;
    },
    { timeoutMs: 15_000, context: () => cp.tail(20) },
  );
  const deploy = entriesNow.find((e) => e.action === 'POST /api/v1/deployments' && e.project === app.project);
  assert.ok(deploy, `the deploy of before() is audited: ${JSON.stringify(entriesNow.map((e) => `${e.seq} ${e.actor} ${e.action} ${e.project} ${e.target}`))}`);
  assert.equal(deploy.target, 'web env production');
  assert.equal(deploy.outcome, 'ok');
  const creation = entriesNow.find((e) => e.action === 'POST /api/v1/tokens' && e.target === `token ${probe.tokenInfo.id}`)!;
  assert.equal(creation.project, app.project);
  assert.equal(creation.detail, 'scope read');
  assert.equal(creation.actor, deploy.actor, 'both done with the admin token of ControlPlaneProcess');
  assert.ok(creation.seq > deploy.seq);

  await openFromNav('Audit', 'Audit log');
  const table = page.getByTestId('audit-table');
  const rows = table.locator('tbody tr[data-seq]');
  await shown(rows.first(), 'audit-table');

  // Every entry the API returns (newest first), each cell as the page draws it.
  const readRows = () =>
    rows.evaluateAll((els) =>
      els.map((tr) => {
        const cells = tr.querySelectorAll('td');
        const actorCell = cells[1];
        const ownText = (el: Element | undefined) => [...(el?.childNodes ?? [])].filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent ?? '').join('').trim();
        return {
          seq: Number(tr.getAttribute('data-seq')),
          at: tr.querySelector('time')?.getAttribute('datetime') ?? null,
          actor: ownText(actorCell),
          clientIp: (actorCell?.querySelector('.mono')?.textContent ?? '').trim(),
          action: tr.querySelector('.route')?.getAttribute('title') ?? null,
          method: (tr.querySelector('.method')?.textContent ?? '').trim(),
          target: (cells[3]?.textContent ?? '').replace(/\s+/g, ' ').trim(),
          outcome: tr.getAttribute('data-outcome'),
          badge: (cells[4]?.querySelector('.badge')?.textContent ?? '').trim(),
          status: Number((cells[4]?.querySelector('.muted')?.textContent ?? '').trim()),
          detail: (cells[5]?.textContent ?? '').trim(),
        };
      }),
    );
  await settle('audit rows', async () => {
    const { entries } = await cp.client.audit({ limit: 100 });
    return {
      page: await readRows(),
      api: entries.map((e) => ({
        seq: e.seq,
        at: e.at,
        actor: e.actor,
        clientIp: e.clientIp,
        action: e.action,
        method: e.action.includes(' ') ? e.action.slice(0, e.action.indexOf(' ')) : '',
        target: [e.project, e.target ?? (e.project ? '' : '—')].filter(Boolean).join(' '),
        outcome: e.outcome,
        badge: e.outcome,
        status: e.status,
        detail: e.detail ?? '',
      })),
    };
  }, { refresh: () => page.getByRole('button', { name: 'Refresh', exact: true }).click() });
  const seqs = (await readRows()).map((r) => r.seq);
  assert.deepEqual(seqs, [...seqs].sort((x, y) => y - x), 'newest first');
  assert.ok(seqs.indexOf(creation.seq) < seqs.indexOf(deploy.seq), `the token creation (${creation.seq}) above the deploy (${deploy.seq}): ${seqs.join(', ')}`);
  const creationRow = table.locator(`tr[data-seq="${creation.seq}"]`);
  const creationText = collapse(await creationRow.innerText());
  assert.match(creationText, new RegExp(`POST /tokens .*${escapeRe(`${app.project} token ${probe.tokenInfo.id}`)}.*ok 201.*scope read`), `the route is shown without /api/v1: ${creationText}`);
  const total = seqs.length;
  assert.ok(collapse(await table.locator('xpath=ancestor::div[contains(@class,"card")][1]').innerText()).includes(`${total} ${total === 1 ? 'entry' : 'entries'}`), `the footer counts ${total} entries\n${await pageText()}`);

  const filters = page.getByRole('form', { name: 'Filter the audit log' });
  const shownSeqs = async () => ((await rows.count()) === 0 ? [] : (await readRows()).map((r) => r.seq));

  // Project (filtered by the server): the project's entries only, the deploy and the token creation among them.
  await filters.getByLabel('Project').fill(app.project);
  const projectSeqs = await settle('audit rows of the project filter', async () => ({
    page: await shownSeqs(),
    api: (await cp.client.audit({ project: app.project, limit: 100 })).entries.map((e) => e.seq),
  }));
  assert.ok(projectSeqs.includes(deploy.seq) && projectSeqs.includes(creation.seq), `deploy and token creation under ${app.project}: ${projectSeqs.join(', ')}`);
  assert.ok(projectSeqs.length < total, `the project filter narrows ${total} rows to ${projectSeqs.length}`);
  await page.screenshot({ path: path.join(OUT, 'audit-project.png'), fullPage: true });
  await filters.getByLabel('Project').fill('');
  await settle('audit rows with the project filter cleared', async () => ({ page: (await shownSeqs()).length, api: total }));

  // Actor (within the loaded entries): the signed-in user's sign-in.
  await filters.getByLabel('Actor').fill(`user:${USER}`);
  const byActor = entriesNow.filter((e) => e.actor.toLowerCase().includes(`user:${USER}`));
  assert.ok(byActor.some((e) => e.action === 'POST /api/v1/session'), `the page's sign-in is audited as user:${USER}: ${JSON.stringify(byActor)}`);
  const actorSeqs = await settle('audit rows of the actor filter', async () => ({
    page: await shownSeqs(),
    api: (await cp.client.audit({ limit: 100 })).entries.filter((e) => e.actor.toLowerCase().includes(`user:${USER}`)).map((e) => e.seq),
  }));
  assert.ok(actorSeqs.length < total, `the actor filter narrows ${total} rows to ${actorSeqs.length}`);
  const footer = collapse(await page.getByText(/\d+ of \d+ entr/).innerText());
  assert.ok(footer.startsWith(`${actorSeqs.length} of ${total} `), `footer: ${footer}`);
  await filters.getByLabel('Actor').fill('');

  // Outcome: the refused call (anonymous, 401).
  await filters.getByLabel('Outcome').selectOption('denied');
  const denied = await settle('audit rows of the outcome filter', async () => ({
    page: await shownSeqs(),
    api: (await cp.client.audit({ limit: 100 })).entries.filter((e) => e.outcome === 'denied').map((e) => e.seq),
  }));
  const refusal = (await readRows()).find((r) => r.action === 'GET /api/v1/whoami');
  assert.ok(refusal, `the refused whoami is listed among the denied rows ${denied.join(', ')}`);
  assert.equal(refusal.actor, 'anonymous');
  assert.equal(refusal.status, 401);
  assert.equal(refusal.badge, 'denied');
  await page.screenshot({ path: path.join(OUT, 'audit-denied.png'), fullPage: true });
  await filters.getByLabel('Outcome').selectOption({ label: 'Any outcome' });
  await settle('audit rows with every filter cleared', async () => ({ page: (await shownSeqs()).length, api: total }));

  await page.screenshot({ path: path.join(OUT, 'audit.png'), fullPage: true });
  assertNoPageErrors();
});

test('Tokens: a token created from the page is listed with its scope, project and expiry; its secret is shown once, never again; revoking it from the page ends it', async () => {
  const { page } = b;
  const NAME = 'page-ci';
  await openFromNav('Tokens', 'Tokens and users');
  const table = page.getByTestId('tokens-table');
  await shown(table, 'tokens-table');
  const isActive = (t: { revokedAt: string | null; expiresAt: string | null }) => t.revokedAt === null && (t.expiresAt === null || Date.parse(t.expiresAt) > Date.now());
  const listedIds = async () => (await table.locator('tbody tr[data-token]').evaluateAll((els) => els.map((e) => e.getAttribute('data-token') ?? ''))).sort();

  // The active tokens the API lists (the local admin token, alice's session, the audit probe…).
  await settle('active tokens', async () => ({ page: await listedIds(), api: (await cp.client.tokens()).tokens.filter(isActive).map((t) => t.id).sort() }));
  const { users } = await cp.client.users();
  const alice = users.find((u) => u.name === USER)!;
  const sessionRow = table.locator('tbody tr[data-token]', { has: page.getByTestId('this-session') });
  assert.equal(await sessionRow.count(), 1, `one row is marked "this session"\n${await pageText()}`);
  const sessionTokenId = (await sessionRow.getAttribute('data-token'))!;
  const sessionToken = (await cp.client.tokens()).tokens.find((t) => t.id === sessionTokenId);
  assert.ok(sessionToken, `the marked row ${sessionTokenId} is a token the API lists`);
  assert.equal(sessionToken.userId, alice.id, `the session's token was issued to ${USER}: ${JSON.stringify(sessionToken)}`);
  assert.equal(sessionToken.name, 'dashboard session');
  const userRow = page.getByTestId('users-table').locator(`tr[data-user="${USER}"]`);
  assert.match(collapse(await userRow.innerText()), new RegExp(`^${USER} you ${alice.scope}\\b`), 'the users table marks the signed-in user with their scope');

  // Create from the page: read scope, one project, 2 h (a session token's children may not outlast its 12 h).
  const form = page.getByTestId('new-token-form');
  await form.locator('input[name="name"]').fill(NAME);
  await form.locator('select[name="scope"]').selectOption('read');
  await form.locator('input[name="project"]').fill(app.project);
  await form.locator('input[name="expiresIn"]').fill('2h');
  const asked = Date.now();
  await form.getByRole('button', { name: 'Create token', exact: true }).click();
  const secretBox = page.getByTestId('new-token-secret');
  await shown(secretBox, 'tokens-secret-box');
  assert.equal(collapse(await secretBox.getByRole('heading').innerText()), `Token “${NAME}” created`);
  assert.match(collapse(await secretBox.getByRole('alert').innerText()), /shown only once/);
  // Toasts fade after 5 s: read it now.
  const createdToast = page.getByTestId('toast').filter({ hasText: `Token ${NAME} created (` });
  await shown(createdToast, 'tokens-created-toast');
  const createdToastText = await createdToast.innerText();
  const secret = await secretBox.getByRole('textbox').inputValue();
  assert.ok(secret.length >= 20, `a secret is shown: ${secret.length} characters`);

  const created = await until('the new token in the API', async () => (await cp.client.tokens()).tokens.find((t) => t.name === NAME), { timeoutMs: 10_000 });
  const createdText = JSON.stringify(created);
  assert.equal(created.scope, 'read', createdText);
  assert.equal(created.project, app.project, createdText);
  assert.equal(created.createdBy, `user:${USER}`, createdText);
  assert.equal(created.parentTokenId, sessionTokenId, `created with the session's token: ${createdText}`);
  assert.equal(created.revokedAt, null, createdText);
  const expiresIn = Date.parse(created.expiresAt ?? '') - asked;
  assert.ok(Math.abs(expiresIn - 2 * 3_600_000) < 60_000, `expires in 2 h: ${createdText}`);
  // The secret shown is that token's.
  const withSecret = new SlipwayClient({ url: `http://127.0.0.1:${cp.apiPort}`, token: secret });
  const me = await withSecret.whoami();
  assert.deepEqual({ tokenId: me.tokenId, scope: me.scope, project: me.project }, { tokenId: created.id, scope: 'read', project: app.project });
  assert.ok(createdToastText.includes(`Token ${NAME} created (${created.id}).`), createdToastText);

  // Its row: name, id, scope, project, creator, expiry (the exact time), status.
  const row = table.locator(`tbody tr[data-token="${created.id}"]`);
  await shown(row, 'tokens-new-row');
  const cells = await row.evaluate((tr) => {
    const td = [...tr.querySelectorAll(':scope > td')];
    const text = (i: number) => (td[i]?.textContent ?? '').replace(/\s+/g, ' ').trim();
    return {
      name: (td[0]?.querySelector('strong')?.textContent ?? '').trim(),
      id: (td[0]?.querySelector('.mono')?.textContent ?? '').trim(),
      scope: (td[1]?.querySelector('.badge')?.textContent ?? '').trim(),
      project: text(2),
      createdBy: text(3),
      createdAt: td[4]?.querySelector('time')?.getAttribute('datetime') ?? null,
      lastUsed: text(5) === 'never' ? null : (td[5]?.querySelector('time')?.getAttribute('datetime') ?? text(5)),
      expiresAt: td[6]?.querySelector('time')?.getAttribute('datetime') ?? null,
      status: (td[7]?.querySelector('.badge')?.textContent ?? '').trim(),
    };
  });
  const { lastUsed: _lastUsed, ...shownFields } = cells;
  assert.deepEqual(
    shownFields,
    { name: NAME, id: created.id, scope: 'read', project: app.project, createdBy: `user:${USER}`, createdAt: created.createdAt, expiresAt: created.expiresAt, status: 'active' },
    `row vs API ${createdText}\n${await pageText()}`,
  );
  assert.match(collapse(await row.locator('td').nth(6).innerText()), /^in 1 h 59 min|^in 2 h/, 'the expiry reads "in 2 h"');

  // Dismissed: gone from the page.
  await secretBox.getByRole('button', { name: 'I have stored it, hide it' }).click();
  await secretBox.waitFor({ state: 'detached' });
  const leftInPage = async () => {
    const dom = await page.content();
    const values = await page.evaluate(() => [...document.querySelectorAll('input, textarea')].map((e) => (e as HTMLInputElement).value));
    return dom.includes(secret) || values.some((v) => v.includes(secret));
  };
  assert.equal(await leftInPage(), false, 'the secret left the page once dismissed');
  // The only answer the browser ever received with the secret is its creation (recording is asynchronous: wait for it).
  await until('the creation answer to be recorded', async () => b.answers.some((a) => a.body.includes(secret)), { timeoutMs: 5_000 });
  const carriers = () => b.answers.filter((a) => a.body.includes(secret)).map((a) => `${a.status} ${new URL(a.url).pathname}`);
  assert.deepEqual(carriers(), ['201 /api/v1/tokens']);

  // Reload: listed, the secret nowhere.
  const mark = b.answers.length;
  await page.reload();
  await shown(row, 'tokens-after-reload');
  await until('the reloaded token list to be recorded', async () => b.answers.slice(mark).some((a) => new URL(a.url).pathname === '/api/v1/tokens' && a.status === 200), { timeoutMs: 10_000 });
  assert.equal(await page.getByTestId('new-token-secret').count(), 0, 'no secret box after a reload');
  assert.equal(await leftInPage(), false, 'the secret is not in the reloaded page');
  assert.deepEqual(carriers(), ['201 /api/v1/tokens'], `no answer after the reload carried it: ${b.answers.slice(mark).map((a) => a.url).join(', ')}`);
  await page.screenshot({ path: path.join(OUT, 'tokens.png'), fullPage: true });

  // Revoke from the page (with confirmation): gone from the active list, refused by the API.
  await page.getByRole('button', { name: `Revoke token ${NAME}`, exact: true }).click();
  const dialog = page.getByRole('dialog', { name: `Revoke token ${NAME}?` });
  await shown(dialog, 'tokens-revoke-dialog');
  assert.ok(collapse(await dialog.innerText()).includes(`Anything using ${created.id} is refused from now on`), await dialog.innerText());
  await dialog.getByRole('button', { name: 'Revoke token', exact: true }).click();
  await row.waitFor({ state: 'detached', timeout: 10_000 }).catch((err: unknown) => explain('tokens-revoke', err));
  await shown(page.getByTestId('toast').filter({ hasText: `Token ${NAME} revoked.` }), 'tokens-revoked-toast');
  const after = (await cp.client.tokens()).tokens.find((t) => t.id === created.id);
  assert.ok(after?.revokedAt, `the API reports it revoked: ${JSON.stringify(after)}`);
  await assert.rejects(withSecret.whoami(), (err: unknown) => err instanceof ApiError && err.status === 401 && /revoked/.test(err.message));
  await settle('active tokens after the revocation', async () => ({ page: await listedIds(), api: (await cp.client.tokens()).tokens.filter(isActive).map((t) => t.id).sort() }));

  // Shown again, marked revoked, with the inactive ones.
  const inactive = (await cp.client.tokens()).tokens.filter((t) => !isActive(t)).length;
  const toggle = page.getByLabel(/Show revoked and expired/);
  assert.match(collapse(await toggle.locator('xpath=..').innerText()), new RegExp(`\\(${inactive}\\)$`), `the toggle counts ${inactive} inactive tokens`);
  await toggle.check();
  await shown(row, 'tokens-revoked-row');
  assert.equal(collapse(await row.locator('td').nth(7).locator('.badge').innerText()), 'revoked');
  assert.equal(await row.getByRole('button', { name: /Revoke/ }).count(), 0, 'no Revoke button on a revoked token');
  await page.screenshot({ path: path.join(OUT, 'tokens-revoked.png'), fullPage: true });
  assert.deepEqual(carriers(), ['201 /api/v1/tokens'], 'still no other answer with the secret');
  assertNoPageErrors();
});

test("Certificates: the local CA's certificate of the project's domain is listed with its domains, source, status, expiry and issuer as the API reports them; Renew now replaces it", async () => {
  const { page } = b;
  const domain = app.domain;
  const certOf = async (): Promise<CertificateView | undefined> => (await cp.client.certificates()).certificates.find((c) => c.domain === domain);
  // SLIPWAY_ACME=off: *.localhost names still get a certificate from the local development CA.
  const cert = await until(`the local certificate of ${domain}`, async () => ((await certOf())?.status === 'valid' ? certOf() : undefined), {
    timeoutMs: 90_000,
    context: () => cp.tail(30),
  });
  const certText = JSON.stringify(cert);
  assert.equal(cert.source, 'local', certText);
  assert.ok(cert.domains.includes(domain), certText);
  assert.ok(cert.notAfter && cert.issuer && cert.fingerprint256, certText);

  await openFromNav('Certificates', 'Certificates');
  const root = page.getByTestId('certificates-page');
  const row = root.locator(`tr[data-certificate="${domain}"]`);
  await shown(row, 'certificates-row');

  // One row per certificate the API lists.
  const overview = await cp.client.certificates();
  const rowDomains = await root.locator('tr[data-certificate]').evaluateAll((els) => els.map((e) => e.getAttribute('data-certificate') ?? '').sort());
  assert.deepEqual(rowDomains, overview.certificates.map((c) => c.domain).sort(), `rows vs API ${JSON.stringify(overview.certificates)}`);

  const readRow = () =>
    row.evaluate((tr) => {
      const td = [...tr.querySelectorAll(':scope > td')];
      const norm = (s: string | null | undefined) => (s ?? '').replace(/\s+/g, ' ').trim();
      const issuer = td[5]?.querySelector('span[title]');
      return {
        domain: norm(td[0]?.querySelector('.domain')?.textContent),
        also: norm([...(td[0]?.querySelectorAll('div.muted.small') ?? [])].find((d) => d.textContent?.trim().startsWith('also'))?.textContent) || null,
        fingerprint: td[0]?.querySelector('[title^="SHA-256 fingerprint"]')?.getAttribute('title') ?? null,
        source: norm(td[1]?.textContent),
        status: norm(td[2]?.querySelector('[data-testid="certificate-status"]')?.textContent),
        notAfter: td[3]?.querySelector('time')?.getAttribute('datetime') ?? null,
        renewAt: td[4]?.querySelector('time')?.getAttribute('datetime') ?? null,
        issuer: issuer?.getAttribute('title') ?? null,
        issuerShort: norm(issuer?.textContent) || null,
        issuedAt: td[5]?.querySelector('time')?.getAttribute('datetime') ?? null,
      };
    });
  const expectedRow = (c: CertificateView) => {
    const others = c.domains.filter((d) => d !== c.domain);
    return {
      domain: c.domain,
      also: others.length > 0 ? `also ${others.join(', ')}` : null,
      fingerprint: c.fingerprint256 ? `SHA-256 fingerprint ${c.fingerprint256}` : null,
      source: c.source === 'acme' ? 'ACME' : c.source === 'own' ? 'own' : 'local CA',
      status: c.status,
      notAfter: c.notAfter,
      renewAt: c.source === 'own' ? null : c.renewAt,
      issuer: c.issuer,
      issuerShort: shortIssuer(c.issuer),
      issuedAt: c.issuedAt,
    };
  };
  await settle(`certificate row of ${domain}`, async () => {
    const c = await certOf();
    assert.ok(c, `the API still lists ${domain}`);
    return { page: await readRow(), api: expectedRow(c) };
  }, { refresh: () => root.getByRole('button', { name: 'Refresh', exact: true }).click() });
  assert.match(cert.issuer!, /Slipway local CA/, certText);
  const expiresCell = collapse(await row.getByTestId('certificate-expires').innerText());
  // The local CA issues 90-day certificates.
  assert.match(expiresCell, / (89|90) d left$/, `the expiry says how long is left: ${expiresCell}`);
  assert.match(collapse(await row.getByTestId('certificate-expires').getAttribute('class')), /\blevel-none\b/, `a fresh certificate is not flagged: ${expiresCell}`);

  // Nothing needs attention (as the API's list says), and no error line under the row.
  const attention = overview.certificates.filter((c) => c.lastError !== null || c.status === 'failed' || (c.notAfter !== null && Date.parse(c.notAfter) <= Date.now())).length;
  assert.equal(await root.getByTestId('certificates-attention').count(), attention === 0 ? 0 : 1, `attention badge for ${attention}`);
  assert.equal(await root.locator(`tr[data-certificate-attention="${domain}"]`).count(), 0, 'no attention line under a valid local certificate');

  // Issuers: ACME off (as the API's directory says), the local CA's file and trust commands.
  const issuers = root.getByTestId('certificate-issuers');
  const acmeLine = collapse(await issuers.getByTestId('acme-line').innerText());
  if (overview.acme.directoryUrl === null) assert.match(acmeLine, /^ACME off/, acmeLine);
  else assert.ok(acmeLine.includes(overview.acme.directoryUrl), acmeLine);
  const localCa = issuers.getByTestId('local-ca');
  assert.ok(collapse(await localCa.innerText()).includes(`CA certificate: ${overview.localCa.caFile}`), `${await localCa.innerText()}\nAPI: ${JSON.stringify(overview.localCa)}`);
  if (overview.localCa.trustCommands.length > 0) assert.equal((await localCa.getByTestId('trust-commands').textContent())?.trim(), overview.localCa.trustCommands.join('\n'));
  await page.screenshot({ path: path.join(OUT, 'certificates.png'), fullPage: true });

  // Renew now (admin, with confirmation): a new certificate, shown once the page reloads the list.
  const renew = row.getByRole('button', { name: `Renew the certificate of ${domain} now`, exact: true });
  assert.equal(await renew.isEnabled(), true, 'an admin may renew a local certificate');
  await renew.click();
  const dialog = page.getByRole('dialog', { name: `Renew the certificate of ${domain} now?` });
  await shown(dialog, 'certificates-renew-dialog');
  assert.match(collapse(await dialog.innerText()), /The local CA signs a new certificate/);
  await dialog.getByRole('button', { name: 'Renew now', exact: true }).click();
  await shown(page.getByTestId('toast').filter({ hasText: `${domain}: new certificate from ${shortIssuer(cert.issuer)}` }), 'certificates-renewed-toast', 30_000);
  const renewed = await until('a new fingerprint in the API', async () => {
    const c = await certOf();
    return c && c.fingerprint256 !== cert.fingerprint256 ? c : undefined;
  }, { timeoutMs: 15_000 });
  await settle(`certificate row of ${domain} after the renewal`, async () => {
    const c = await certOf();
    assert.ok(c, `the API still lists ${domain}`);
    return { page: await readRow(), api: expectedRow(c) };
  }, { refresh: () => root.getByRole('button', { name: 'Refresh', exact: true }).click() });
  assert.notEqual(renewed.fingerprint256, cert.fingerprint256);
  await page.screenshot({ path: path.join(OUT, 'certificates-renewed.png'), fullPage: true });

  // No key material ever reached the browser.
  const withKeys = b.answers.filter((a) => /PRIVATE KEY/.test(a.body)).map((a) => a.url);
  assert.deepEqual(withKeys, [], 'no answer carried a private key');
  assertNoPageErrors();
});

test('Alerts: a disk alert fired by the server-wide defaults is counted by the nav badge and listed as the API lists it; silenced from the page, the silence is listed until its end; ended from the page, it is gone', async () => {
  const { page } = b;
  const nav = page.getByRole('navigation', { name: 'Main' });
  const badge = nav.getByTestId('alerts-badge');
  const firingOf = async () => (await cp.client.alerts()).alerts.filter((a) => a.state === 'firing');
  /** The badge's text (its count, and for screen readers whether it is silenced) and whether it is red; null: no badge. */
  const readBadge = async () => ((await badge.count()) === 0 ? null : { count: collapse(await badge.textContent()), loud: /\bbad\b/.test((await badge.getAttribute('class')) ?? '') });
  const quietNow = (a: AlertView, silences: SilenceView[]) => a.silenced || silences.some((s) => covers(s, a.rule, a.subject, a.project, new Date().toISOString()));
  assert.deepEqual(await firingOf(), [], 'nothing fires under the built-in rules on this host');
  assert.equal(await badge.count(), 0, 'no badge while nothing fires');

  // The data directory's disk is always more than 0.1 % used: with these defaults, the disk rule fires after 1 s.
  // Memory off: only the disk alert can fire, whatever the host's memory.
  const view = await cp.client.setAlertDefaults({ disk: { above: '0.1%', for: '1s', clear_for: '1s' }, memory: 'off' });
  assert.deepEqual(view.defaults, { disk: { above: '0.1%', for: '1s', clear_for: '1s' }, memory: 'off' });
  const disk = await until('the disk alert firing in the API', async () => (await firingOf()).find((a) => a.rule === 'disk'), { timeoutMs: 30_000, context: () => cp.tail(30) });
  assert.deepEqual({ subject: disk.subject, link: disk.link, explain: disk.explain, silenced: disk.silenced }, { subject: 'local', link: '/servers', explain: 'slipway servers', silenced: false }, JSON.stringify(disk));
  assert.match(disk.summary, /^\d+(\.\d)? % of the data directory's disk in use \(rule: over 0\.1 %\)$/, disk.summary);

  // The badge (polled every 15 s, on whatever page is open) counts it, in red: nothing silences it.
  await settle('the nav badge', async () => ({ page: await readBadge(), api: { count: `${(await firingOf()).length} firing`, loud: true } }), { timeoutMs: 25_000 });
  assert.equal(collapse(await badge.evaluate((el) => el.firstChild?.textContent)), '1', 'the badge shows the count');
  // Cheap: one GET /api/v1/alerts per 15 s, not more.
  const alertCalls = () => b.answers.filter((a) => new URL(a.url).pathname === '/api/v1/alerts').length;
  const callsBefore = alertCalls();
  await new Promise((r) => setTimeout(r, 4000));
  assert.ok(alertCalls() - callsBefore <= 1, `the badge polled GET /api/v1/alerts ${alertCalls() - callsBefore} times in 4 s`);

  // The page: from the navigation (the link's name carries the count).
  const navLink = nav.getByRole('link', { name: 'Alerts 1 firing', exact: true });
  await shown(navLink, 'alerts-nav');
  await navLink.click();
  await shown(page.getByRole('heading', { level: 1, name: 'Alerts', exact: true }), 'alerts-open');
  assert.equal(new URL(page.url()).pathname, '/alerts');
  assert.equal(await navLink.getAttribute('aria-current'), 'page');
  const root = page.getByTestId('alerts-page');
  const refresh = () => root.getByRole('button', { name: 'Refresh', exact: true }).click();
  const row = root.locator(`[data-testid="alerts-firing-table"] tr[data-alert="${disk.id}"]`);
  await shown(row, 'alerts-disk-row');

  const readAlerts = (table: string) =>
    root.locator(`[data-testid="${table}"] tbody tr[data-alert]`).evaluateAll((els) =>
      els.map((tr) => {
        const text = (sel: string) => (tr.querySelector(sel)?.textContent ?? '').replace(/\s+/g, ' ').trim();
        return {
          id: Number(tr.getAttribute('data-alert')),
          rule: text('.rule'),
          subject: text('td.subject'),
          link: tr.querySelector('td.subject a')?.getAttribute('href') ?? null,
          startedAt: tr.querySelector('time')?.getAttribute('datetime') ?? null,
          summary: text('[data-testid="alert-summary"]'),
          silenced: tr.querySelector('[data-testid="alert-silenced"]') !== null,
          explain: text('[data-testid="alert-explain"]') || null,
        };
      }),
    );
  const expectedAlert = (a: AlertView, silences: SilenceView[]) => ({ id: a.id, rule: a.rule, subject: a.subject, link: a.link, startedAt: a.startedAt, summary: a.summary, silenced: quietNow(a, silences), explain: a.explain });
  const byId = <T extends { id: number }>(xs: T[]) => [...xs].sort((x, y) => x.id - y.id);
  const compareFiring = (what: string) =>
    settle(what, async () => {
      const o = await cp.client.alerts({ all: 'true' });
      return { page: byId(await readAlerts('alerts-firing-table')), api: byId(o.alerts.filter((a) => a.state === 'firing').map((a) => expectedAlert(a, o.silences))) };
    }, { refresh });
  const readSilences = () =>
    root.locator('[data-testid="silences-table"] tbody tr[data-silence]').evaluateAll((els) =>
      els.map((tr) => ({
        id: Number(tr.getAttribute('data-silence')),
        rule: tr.getAttribute('data-rule'),
        covers: (tr.querySelector('td.covers')?.textContent ?? '').trim(),
        until: tr.querySelector('time')?.getAttribute('datetime') ?? null,
      })),
    );
  const compareSilences = (what: string) =>
    settle(what, async () => ({
      page: (await root.getByTestId('silences-table').count()) === 0 ? [] : byId(await readSilences()),
      api: byId((await cp.client.alerts()).silences.map((s) => ({ id: s.id, rule: s.rule, covers: s.subject ?? (s.project ? `every service of ${s.project}` : 'everywhere'), until: s.until }))),
    }), { refresh });

  const shownAlerts = await compareFiring('firing alerts');
  assert.deepEqual(shownAlerts.map((a) => a.id), [disk.id]);
  assert.equal(shownAlerts[0]!.link, '/servers', 'the subject links to the page that explains it');
  assert.equal(shownAlerts[0]!.explain, 'slipway servers');
  assert.equal(shownAlerts[0]!.silenced, false);
  assert.match(collapse(await row.getByTestId('alert-duration').innerText()), /^firing for \d/);
  assert.equal(collapse(await root.getByTestId('alerts-count').innerText()), '1 firing');
  assert.equal(await root.getByTestId('silences-none').count(), 1, `no silences yet\n${await pageText()}`);
  await page.screenshot({ path: path.join(OUT, 'alerts.png'), fullPage: true });

  // The subject's link opens the Servers page (in the app), and back.
  await row.getByRole('link', { name: 'local', exact: true }).click();
  await shown(page.getByRole('heading', { level: 1, name: 'Servers', exact: true }), 'alerts-link-servers');
  assert.equal(new URL(page.url()).pathname, '/servers');
  await page.goBack();
  await shown(row, 'alerts-back');

  // Silence it from the page for an hour: the silence is listed with its end, the alert marked, the badge no longer red.
  const asked = Date.now();
  await row.getByRole('button', { name: 'Silence disk on local for 1 hour', exact: true }).click();
  await shown(page.getByTestId('toast').filter({ hasText: /Silenced disk everywhere until .+ \(silence \d+\)\./ }), 'alerts-silenced-toast');
  const silence = await until('the silence in the API', async () => (await cp.client.alerts()).silences.find((s) => s.rule === 'disk'), { timeoutMs: 10_000 });
  assert.deepEqual({ subject: silence.subject, project: silence.project, createdBy: silence.createdBy }, { subject: null, project: null, createdBy: `user:${USER}` }, JSON.stringify(silence));
  const lasts = Date.parse(silence.until) - asked;
  assert.ok(Math.abs(lasts - 3_600_000) < 60_000, `an hour: ${JSON.stringify(silence)}`);
  const silenceRow = root.locator(`tr[data-silence="${silence.id}"]`);
  await shown(silenceRow, 'alerts-silence-row');
  const listed = await compareSilences('silences in force');
  assert.deepEqual(listed, [{ id: silence.id, rule: 'disk', covers: 'everywhere', until: silence.until }]);
  assert.match(collapse(await silenceRow.innerText()), /^disk #\d+ everywhere .+ in (59 min|1 h)/, collapse(await silenceRow.innerText()));
  const silencedAlerts = await compareFiring('firing alerts under the silence');
  assert.equal(silencedAlerts[0]!.silenced, true, 'the alert is marked silenced');
  assert.equal(await row.getByRole('button', { name: /^Silence / }).count(), 0, 'no Silence button on a silenced alert');
  assert.equal(collapse(await root.getByTestId('alerts-count').innerText()), '1 firing (1 silenced)');
  await settle('the nav badge under the silence', async () => ({ page: await readBadge(), api: { count: '1 firing, silenced', loud: false } }));
  await page.screenshot({ path: path.join(OUT, 'alerts-silenced.png'), fullPage: true });

  // End it from the page: gone from the page and the API; the alert is loud again.
  await silenceRow.getByRole('button', { name: `End silence ${silence.id} (disk everywhere)`, exact: true }).click();
  await silenceRow.waitFor({ state: 'detached', timeout: 10_000 }).catch((err: unknown) => explain('alerts-end-silence', err));
  await shown(page.getByTestId('toast').filter({ hasText: `Silence ${silence.id} ended: disk everywhere notifies again.` }), 'alerts-ended-toast');
  assert.equal((await cp.client.alerts()).silences.some((s) => s.id === silence.id), false, 'the API no longer lists the silence');
  assert.deepEqual(await compareSilences('silences after the end'), []);
  assert.equal((await compareFiring('firing alerts after the end'))[0]!.silenced, false);
  await settle('the nav badge after the end', async () => ({ page: await readBadge(), api: { count: '1 firing', loud: true } }));

  // The rule off: the alert resolves (nothing left to watch), and is listed under "Recently resolved".
  await cp.client.setAlertDefaults({ disk: 'off', memory: 'off' });
  await until('the disk alert resolved in the API', async () => ((await firingOf()).length === 0 ? true : undefined), { timeoutMs: 15_000, context: () => cp.tail(30) });
  await settle('resolved alerts', async () => {
    const o = await cp.client.alerts({ all: 'true' });
    return { page: byId(await readAlerts('alerts-resolved-table')), api: byId(o.alerts.filter((a) => a.state === 'resolved').map((a) => expectedAlert(a, []))) };
  }, { refresh });
  await shown(root.getByTestId('alerts-none'), 'alerts-none-firing');
  assert.equal(await readBadge(), null, 'no badge once nothing fires');
  await page.screenshot({ path: path.join(OUT, 'alerts-resolved.png'), fullPage: true });

  await cp.client.setAlertDefaults({});
  assertNoPageErrors();
});
