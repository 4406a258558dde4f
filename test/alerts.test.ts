/**
 * Alert rules against a real control plane, Docker and HAProxy: an error-rate rule fires after
 * its `for` under a known error mix sent through the edge and resolves after the errors stop
 * (a webhook target gets `alert.firing` once and `alert.resolved` once); a crash-looping
 * worker fires its rule; a silenced rule records its alert and sends nothing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { cliFor } from './support/cli';
import { ControlPlaneProcess } from './support/control-plane-process';
import { getWithHost } from './support/http-get';
import { TestProject } from './support/test-project';
import { until } from './support/until';
import { deployAndWait, deploymentLog } from './support/wait-deployment';

const cp = await ControlPlaneProcess.create('alerts');
const app = new TestProject('alerts');
const quietDomain = 'quiet.alerts.test.localhost';

interface Received {
  type: string | null;
  at: number;
  data: Record<string, unknown>;
}
const received: Received[] = [];
const receiver = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    const parsed = JSON.parse(body) as { data: Record<string, unknown> };
    received.push({ type: (req.headers['x-slipway-event'] as string | undefined) ?? null, at: Date.now(), data: parsed.data });
    res.writeHead(200).end();
  });
});
const alertEvents = (subject: string) => received.filter((r) => r.type?.startsWith('alert.') && r.data.subject === subject);

/** 5xx share over 20 % held for 5 s fires; gone for 3 s resolves. */
const errorRule = { error_rate: { above: '20%', for: '5s', min_requests: 10, clear_for: '3s' }, crash_loop: 'off' };
const web = (domain: string) => ({ build: '.', port: 3000, domains: [domain], replicas: 1, health: { path: '/health', interval: '200ms', successes: 1 }, alerts: errorRule });

before(async () => {
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  await cp.start({ SLIPWAY_ALERT_INTERVAL: '500ms', SLIPWAY_RECONCILE_INTERVAL: '500ms' });
  await cp.client.createBaseImage('node');
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  await cp.client.addNotificationTarget({ kind: 'webhook', url, project: 'alerts', events: ['alert.firing', 'alert.resolved'] });
  const d = await deployAndWait(cp.client, { ...app.write({ version: 'one', replicas: 1, service: { alerts: errorRule }, services: { quiet: web(quietDomain) } }), services: ['web', 'quiet'] });
  assert.equal(d.state, 'succeeded', await deploymentLog(cp.client, d.id));
  await until('quiet serving', async () => (await getWithHost(cp.httpPort, quietDomain, '/')).status === 200, { context: () => cp.tail(30) });
});
after(async () => {
  await cp.destroy();
  receiver.close();
});

/** Sends `perSecond` requests a second for `ms` to the domain, a share of them to /status/500. */
async function traffic(domain: string, ms: number, errorShare: number, perSecond = 20): Promise<{ sent: number; errors: number }> {
  const end = Date.now() + ms;
  let sent = 0;
  let errors = 0;
  while (Date.now() < end) {
    const tick = Date.now();
    await Promise.all(
      Array.from({ length: perSecond / 4 }, async () => {
        const bad = Math.random() < errorShare;
        const r = await getWithHost(cp.httpPort, domain, bad ? '/status/500' : '/');
        sent++;
        if (r.status >= 500) errors++;
      }),
    );
    await new Promise((r) => setTimeout(r, Math.max(0, 250 - (Date.now() - tick))));
  }
  return { sent, errors };
}

test('an error-rate rule fires after its `for` under a known error mix, once, and resolves once after the errors stop; a silenced one sends nothing', async () => {
  const webSubject = 'alerts/production/web';
  const quietSubject = 'alerts/production/quiet';
  const cli = cliFor(cp, app.dir);
  const silenced = await cli('alerts', 'silence', 'quiet/error_rate', '--for', '1h', '--reason', 'expected errors', '--json');
  assert.equal(silenced.code, 0, silenced.stderr);
  const silence = JSON.parse(silenced.stdout) as { id: number; subject: string };
  assert.equal(silence.subject, quietSubject);
  const audited = (await cp.client.audit({})).entries.find((e) => e.action === 'POST /api/v1/alerts/silences');
  assert.deepEqual({ project: audited?.project, target: audited?.target, outcome: audited?.outcome, detail: audited?.detail }, { project: 'alerts', target: 'error_rate alerts/production/quiet', outcome: 'ok', detail: 'for 60 min: expected errors' }, 'the silence is audited');

  const errorsFrom = Date.now();
  // Half the requests fail, on both services, until the web alert has fired and a few seconds more.
  let stop = false;
  const bad = (async () => {
    const totals = { sent: 0, errors: 0 };
    while (!stop) {
      const [a, b] = await Promise.all([traffic(app.domain, 1000, 0.5), traffic(quietDomain, 1000, 0.5)]);
      totals.sent += a.sent + b.sent;
      totals.errors += a.errors + b.errors;
    }
    return totals;
  })();
  const firing = await until('alert.firing for web', async () => alertEvents(webSubject).find((r) => r.type === 'alert.firing'), { timeoutMs: 60_000, context: () => cp.tail(40) });
  await new Promise((r) => setTimeout(r, 3000));
  stop = true;
  const sentBad = await bad;
  assert.ok(sentBad.errors > 50, `a real error mix went through the edge: ${JSON.stringify(sentBad)}`);
  assert.ok(firing.at - errorsFrom >= 5000, `fired ${firing.at - errorsFrom} ms after the errors began: not before its 5 s`);
  assert.equal(firing.data.rule, 'error_rate');
  assert.equal(firing.data.state, 'firing');
  assert.equal(firing.data.link, '/p/alerts/production/web');
  assert.match(String(firing.data.summary), /% of \d+ requests answered 5xx in the last 5 s \(rule: over 20 %\)/);
  assert.ok(Number(firing.data.value) > 0.2 && Number(firing.data.value) < 0.8, `measured ${String(firing.data.value)}`);

  // The errors stop; good requests go on: resolved once, after its clear time.
  const stoppedAt = Date.now();
  let good = true;
  const goodTraffic = (async () => {
    while (good) await traffic(app.domain, 1000, 0);
  })();
  const resolved = await until('alert.resolved for web', async () => alertEvents(webSubject).find((r) => r.type === 'alert.resolved'), { timeoutMs: 60_000, context: () => cp.tail(40) });
  // Let a few more evaluations pass: nothing more may be sent.
  await new Promise((r) => setTimeout(r, 4000));
  good = false;
  await goodTraffic;
  assert.ok(resolved.at - stoppedAt >= 3000, `resolved ${resolved.at - stoppedAt} ms after the errors stopped: not before its 3 s clear time`);
  assert.deepEqual(alertEvents(webSubject).map((r) => r.type), ['alert.firing', 'alert.resolved'], 'each sent once');
  assert.equal(resolved.data.alert, firing.data.alert);

  // The silenced service's alert fired too (recorded, marked), and nothing was sent for it.
  const all = await cp.client.alerts({ all: 'true' });
  const quiet = all.alerts.find((a) => a.subject === quietSubject);
  assert.ok(quiet, `the quiet service's alert is recorded: ${JSON.stringify(all.alerts)}`);
  assert.equal(quiet.silenced, true);
  assert.deepEqual(alertEvents(quietSubject), [], 'a silenced rule sends nothing');
  const webAlert = all.alerts.find((a) => a.subject === webSubject)!;
  assert.deepEqual({ state: webAlert.state, silenced: webAlert.silenced }, { state: 'resolved', silenced: false });
  assert.ok(webAlert.endedAt && webAlert.durationSeconds >= 3);
  assert.equal(webAlert.explain, 'slipway requests web --project alerts --env production --errors');
  assert.ok(all.silences.some((s) => s.id === silence.id));
  const listed = await cli('alerts', '--all');
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /error_rate on alerts\/production\/web: resolved after \d+s/);
  assert.match(listed.stdout, /slipway requests web --project alerts --env production --errors/);
  assert.match(listed.stdout, /silenced/);
});

test('a crash-looping worker fires its rule', async () => {
  // Ready after min_ready, then dies two seconds later, over and over: the reconciler replaces it each time.
  const crasher = { build: '.', command: ['node', '-e', 'console.log("up"); setTimeout(() => process.exit(3), 2500)'], min_ready: '1s', alerts: { crash_loop: { restarts: 2, within: '5m' } } };
  const d = await deployAndWait(cp.client, { ...app.write({ version: 'one', replicas: 1, service: { alerts: errorRule }, services: { quiet: web(quietDomain), crasher } }), services: ['crasher'] });
  assert.equal(d.state, 'succeeded', await deploymentLog(cp.client, d.id));
  const subject = 'alerts/production/crasher';
  const firing = await until('alert.firing for the crash loop', async () => alertEvents(subject).find((r) => r.type === 'alert.firing'), { timeoutMs: 120_000, context: () => cp.tail(40) });
  assert.equal(firing.data.rule, 'crash_loop');
  assert.ok(Number(firing.data.value) >= 2, `restarts counted: ${String(firing.data.value)}`);
  assert.match(String(firing.data.summary), /restart\(s\) of its replicas in the last 5 min \(rule: 2 or more\)/);
  const listed = (await cp.client.alerts({})).alerts.find((a) => a.subject === subject);
  assert.equal(listed?.state, 'firing');
  assert.equal(listed?.explain, 'slipway logs crasher --project alerts --env production --since 5m');
});
