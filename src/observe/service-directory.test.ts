import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Store } from '../core/ports/store';
import { ServiceDirectory } from './service-directory';

// The three reads the directory makes, over plain data.
function storeOf(projects: Record<string, { services: Array<[string, 'web' | 'worker']>; envs: string[] }>): Store {
  const list = Object.keys(projects).map((name, i) => ({ id: i + 1, name, createdAt: '' }));
  const byId = (id: number) => projects[list[id - 1]!.name]!;
  return {
    listProjects: async () => list,
    listServices: async (id: number) => byId(id).services.map(([name, type], j) => ({ id: j, projectId: id, name, type, createdAt: '' })),
    listEnvironments: async (id: number) => byId(id).envs.map((name, j) => ({ id: j, projectId: id, name, createdAt: '' })),
  } as unknown as Store;
}

test('backend names resolve to project, service and environment; names with `-` never collide', async () => {
  const dir = new ServiceDirectory(storeOf({ 'my-app': { services: [['web', 'web'], ['jobs', 'worker']], envs: ['production', 'preview-x'] }, my: { services: [['app-web', 'web']], envs: ['production'] } }));
  assert.equal(dir.resolve('be_my-app_web_production'), undefined, 'nothing before the first refresh');
  await dir.refresh();
  assert.deepEqual(dir.resolve('be_my-app_web_preview-x'), { project: 'my-app', service: 'web', env: 'preview-x' });
  assert.deepEqual(dir.resolve('be_my_app-web_production'), { project: 'my', service: 'app-web', env: 'production' });
  assert.equal(dir.resolve('be_my-app_jobs_production'), undefined, 'workers have no backend');
  assert.equal(dir.resolve('http'), undefined);
  assert.ok(dir.refreshedAt > 0);
});
