/**
 * The alert part of the Store contract (the AlertStore role: alerts from firing to resolved,
 * their events, silences); registered by runStoreContract, so every Store implementation runs it.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { NewAlert } from '../core/alert-records';
import { freshStore, type OpenStore } from './test-support/contract-fixture';

export function runAlertContract(open: OpenStore): void {
  const fresh = (t: TestContext) => freshStore(open, t);
  const alert = (over: Partial<NewAlert> = {}): NewAlert => ({
    rule: 'error_rate',
    subject: 'shop/production/web',
    project: 'shop',
    env: 'production',
    service: 'web',
    startedAt: '2026-12-08T01:00:00.000Z',
    value: 0.25,
    summary: '25 % of 40 requests > 5 %',
    link: '/projects/shop/production/services/web',
    explain: 'slipway requests web --env production --errors',
    silenced: false,
    ...over,
  });
  const event = (type: 'alert.firing' | 'alert.resolved') => ({ type, project: 'shop', payload: { rule: 'error_rate' } });

  describe('alerts', () => {
    test('an alert fires with its event, takes newer values, resolves once with its event; listed firing or all', async (t) => {
      const { store } = await fresh(t);
      const before = (await store.listOutbox(0, 100)).length;
      const a = await store.openAlert(alert(), (stored) => ({ ...event('alert.firing'), payload: { alert: stored.id } }));
      assert.equal(a.state, 'firing');
      assert.equal(a.endedAt, null);
      assert.equal(a.silenced, false);
      await store.updateAlertValue(a.id, 0.4, '40 % of 50 requests > 5 %');
      const [listed] = await store.listAlerts({});
      assert.deepEqual({ value: listed!.value, summary: listed!.summary }, { value: 0.4, summary: '40 % of 50 requests > 5 %' });

      assert.equal(await store.resolveAlert(a.id, { endedAt: '2026-12-08T01:10:00.000Z', value: 0.01, summary: '1 % of 100 requests' }, event('alert.resolved')), true);
      assert.equal(await store.resolveAlert(a.id, { endedAt: '2026-12-08T01:11:00.000Z', value: 0, summary: 'again' }, event('alert.resolved')), false, 'a second resolve is a no-op');
      const types = (await store.listOutbox(0, 100)).slice(before).map((e) => e.type);
      assert.deepEqual(types, ['alert.firing', 'alert.resolved'], 'one event each, none for the repeated resolve');
      assert.deepEqual((await store.listOutbox(0, 100)).slice(before)[0]!.payload, { alert: a.id }, 'the firing event is made from the stored alert (its id)');

      assert.deepEqual(await store.listAlerts({}), [], 'nothing firing');
      const [all] = await store.listAlerts({ all: true });
      assert.deepEqual({ state: all!.state, endedAt: all!.endedAt, value: all!.value, summary: all!.summary }, { state: 'resolved', endedAt: '2026-12-08T01:10:00.000Z', value: 0.01, summary: '1 % of 100 requests' });
      await store.updateAlertValue(a.id, 9, 'late');
      assert.equal((await store.listAlerts({ all: true }))[0]!.value, 0.01, 'a resolved alert keeps its last value');
    });

    test('a silenced alert is stored without an event; project filter; newest first; pruned after it ended', async (t) => {
      const { store } = await fresh(t);
      const before = (await store.listOutbox(0, 100)).length;
      const a = await store.openAlert(alert({ silenced: true }), null);
      const b = await store.openAlert(alert({ rule: 'disk', subject: 'local', project: null, env: null, service: null, startedAt: '2026-12-08T02:00:00.000Z' }), () => ({ type: 'alert.firing', project: null, payload: {} }));
      assert.equal((await store.listAlerts({}))[0]!.id, b.id, 'newest first');
      assert.deepEqual((await store.listAlerts({ project: 'shop' })).map((x) => x.id), [a.id]);
      assert.equal((await store.listAlerts({}))[1]!.silenced, true);
      assert.equal((await store.listOutbox(0, 100)).length - before, 1, 'only the unsilenced alert wrote an event');
      await store.resolveAlert(a.id, { endedAt: '2026-12-08T01:30:00.000Z', value: null, summary: 'over' }, null);
      assert.equal(await store.pruneAlerts('2026-12-08T01:40:00.000Z'), 1);
      assert.deepEqual((await store.listAlerts({ all: true })).map((x) => x.id), [b.id], 'the firing one is never pruned');
    });

    test('silences: listed while in force, soonest end first, read, deleted; a project takes its silences and alerts with it', async (t) => {
      const { store, project } = await fresh(t);
      const s1 = await store.createSilence({ rule: 'error_rate', subject: 'shop/production/web', project: 'shop', until: '2026-12-08T03:00:00.000Z', reason: 'maintenance', createdBy: 'admin', createdAt: '2026-12-08T01:00:00.000Z' });
      const s2 = await store.createSilence({ rule: 'disk', subject: null, project: null, until: '2026-12-08T02:00:00.000Z', reason: null, createdBy: 'admin', createdAt: '2026-12-08T01:00:00.000Z' });
      assert.deepEqual((await store.listSilences('2026-12-08T01:30:00.000Z')).map((s) => s.id), [s2.id, s1.id]);
      assert.deepEqual((await store.listSilences('2026-12-08T02:30:00.000Z')).map((s) => s.id), [s1.id], 'an ended silence is not in force');
      assert.deepEqual(await store.getSilence(s1.id), s1);
      assert.equal(await store.deleteSilence(s2.id), true);
      assert.equal(await store.deleteSilence(s2.id), false);
      assert.equal(await store.getSilence(s2.id), null);

      await store.openAlert(alert(), null);
      await store.deleteProject(project.id);
      assert.deepEqual(await store.listAlerts({ all: true }), []);
      assert.deepEqual(await store.listSilences('2026-12-08T01:00:00.000Z'), []);
    });
  });
}
