/**
 * Child process for the cross-process test in sqlite-store.test.ts (not used by Slipway itself).
 * argv: <db file> <deployment id> <lines>. Opens the store, migrates (concurrently with its
 * siblings), makes sure the deployment exists, prints `ready`, waits for `go` on stdin, then
 * appends <lines> log lines at once and prints their seqs as JSON.
 */
import { once } from 'node:events';
import { openSqliteStore } from '../sqlite-store';

const [file, deploymentId, lines] = process.argv.slice(2);
if (!file || !deploymentId || !lines) throw new Error('usage: concurrent-writer <file> <deployment id> <lines>');

const store = await openSqliteStore({ file });
try {
  await store.migrate();
  const project = await store.upsertProject('race');
  const env = (await store.getEnvironment(project.id, 'production'))!;
  const service = await store.upsertService(project.id, 'web', 'web');
  if (!(await store.getDeployment(deploymentId))) {
    try {
      await store.createDeployment({ id: deploymentId, serviceId: service.id, environmentId: env.id, kind: 'deploy', previousReleaseId: null, releaseId: null });
    } catch (err) {
      if (!(await store.getDeployment(deploymentId))) throw err; // a sibling created it first: fine
    }
  }
  process.stdout.write('ready\n');
  await once(process.stdin, 'data');
  process.stdin.destroy();
  const appended = await Promise.all(Array.from({ length: Number(lines) }, (_, i) => store.appendLog(deploymentId, 'info', `pid ${process.pid} line ${i}`)));
  process.stdout.write(`${JSON.stringify(appended.map((l) => l.seq))}\n`);
} finally {
  await store.close();
}
