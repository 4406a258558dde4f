/**
 * The Store contract: the behaviour every Store implementation (SQLite now, Postgres later)
 * must have. Register it from a *.test.ts file:
 *
 *   runStoreContract('sqlite file', () => openSqliteStore({ file: tmpFile() }), { openPersistent });
 *
 * `open` must return a new, empty, not yet migrated store on every call. `openPersistent`
 * (optional) must open the same durable store on every call; it enables the reopen test.
 *
 * The cases are split like the port, one file per role (`<role>-contract.ts`); this file
 * holds what concerns the whole store (migrations, persistence across a reopen) and registers
 * every role's cases under one `Store contract: <name>` suite.
 */
import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Store } from '../core/ports/store';
import { runAccessContract } from './access-contract';
import { runAccessoryContract } from './accessory-contract';
import { runAlertContract } from './alert-contract';
import { runCertificateContract } from './certificate-contract';
import { runDeploymentContract } from './deployment-contract';
import { runJobRunContract } from './job-run-contract';
import { runOutboxContract } from './outbox-contract';
import { runPlacementContract } from './placement-contract';
import { runProjectContract } from './project-contract';
import { runReplicaRestartContract } from './replica-restart-contract';
import { runRequestMetricsContract } from './request-metrics-contract';
import { runResourceStatsContract } from './resource-stats-contract';
import { runSecretContract } from './secret-contract';
import { runSettingsContract } from './settings-contract';
import { runWebhookContract } from './webhook-contract';
import { config, freshStore } from './test-support/contract-fixture';

export interface StoreContractOptions {
  /** Opens the same durable store (one file, one database) on every call. */
  openPersistent?: () => Promise<Store>;
}

export function runStoreContract(name: string, open: () => Promise<Store>, opts: StoreContractOptions = {}): void {
  describe(`Store contract: ${name}`, () => {
    const fresh = (t: TestContext) => freshStore(open, t);

    describe('migrations', () => {
      test('running migrate twice is a no-op and keeps data', async (t) => {
        const { store, project } = await fresh(t);
        await store.migrate();
        await store.migrate();
        assert.equal((await store.getProject('shop'))?.id, project.id);
      });
    });

    runProjectContract(open);
    runDeploymentContract(open);
    runPlacementContract(open);
    runReplicaRestartContract(open);
    runAlertContract(open);
    runSecretContract(open);
    runAccessoryContract(open);
    runJobRunContract(open);
    runSettingsContract(open);
    runOutboxContract(open);
    runWebhookContract(open);
    runCertificateContract(open);
    runAccessContract(open);

    const openPersistent = opts.openPersistent;
    describe('persistence', { skip: openPersistent ? false : 'no openPersistent given' }, () => {
      test('reopening keeps every kind of record', async () => {
        const name = `kept-${randomUUID()}`;
        const a = await openPersistent!();
        let ids: { projectId: number; envId: number; serviceId: number; releaseId: number; deploymentId: string };
        try {
          await a.migrate();
          const project = await a.upsertProject(name);
          const env = (await a.getEnvironment(project.id, 'production'))!;
          const service = await a.upsertService(project.id, 'web', 'web');
          const release = await a.createRelease({ serviceId: service.id, environmentId: env.id, imageRef: 'i', imageDigest: 'sha256:x', config, sourceRef: null, secretsVersion: null });
          await a.setCurrentReleaseId(service.id, env.id, release.id);
          const d = await a.createDeployment({ id: randomUUID(), serviceId: service.id, environmentId: env.id, kind: 'deploy', previousReleaseId: null, releaseId: release.id });
          await a.startStep(d.id, 'build');
          await a.appendLog(d.id, 'info', 'hello');
          await a.acquireLease(`lease-${name}`, 'me', 60_000);
          await a.setSetting(`setting-${name}`, 'v');
          ids = { projectId: project.id, envId: env.id, serviceId: service.id, releaseId: release.id, deploymentId: d.id };
        } finally {
          await a.close();
        }
        const b = await openPersistent!();
        try {
          await b.migrate();
          assert.equal((await b.getProject(name))?.id, ids.projectId);
          assert.equal((await b.getServiceById(ids.serviceId))?.name, 'web');
          assert.deepEqual((await b.getRelease(ids.releaseId))?.config, config);
          assert.equal(await b.getCurrentReleaseId(ids.serviceId, ids.envId), ids.releaseId);
          assert.equal((await b.getDeployment(ids.deploymentId))?.state, 'queued');
          assert.equal((await b.listSteps(ids.deploymentId)).length, 1);
          assert.deepEqual((await b.listLogs(ids.deploymentId)).map((l) => l.message), ['hello']);
          assert.equal((await b.getLease(`lease-${name}`))?.holder, 'me');
          assert.equal(await b.getSetting(`setting-${name}`), 'v');
          assert.equal((await b.createRelease({ serviceId: ids.serviceId, environmentId: ids.envId, imageRef: 'i', imageDigest: 'sha256:y', config, sourceRef: null, secretsVersion: null })).number, 2, 'numbering continues');
        } finally {
          await b.close();
        }
      });
    });

    runResourceStatsContract(open);
    runRequestMetricsContract(open);
  });
}
