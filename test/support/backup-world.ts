/**
 * The engine pieces a backups test runs on, wired as src/main.ts wires them: the SQLite store
 * in memory with one project and its production environment, the accessory manager on the real
 * Docker runtime and keyring, and the backup manager (with the snapshot ports when given).
 */
import Docker from 'dockerode';
import type { Logger } from 'pino';
import type { BackupFiles } from '../../src/core/ports/backup-files';
import type { JetStreamAdmin } from '../../src/core/ports/jetstream-admin';
import type { Store } from '../../src/core/ports/store';
import type { DockerRuntime } from '../../src/drivers/docker/docker-runtime';
import { DockerAccessoryImages } from '../../src/drivers/docker/accessory-images';
import { MasterKeyring } from '../../src/drivers/keyring/master-keyring';
import { PgPostgresAdmin } from '../../src/drivers/postgres/postgres-admin';
import { httpProbe } from '../../src/drivers/probe/http-probe';
import { tcpProbe } from '../../src/drivers/probe/tcp-probe';
import { openSqliteStore } from '../../src/store/sqlite-store';
import { Accessories } from '../../src/engine/accessories';
import { Backups } from '../../src/engine/backups';
import type { EngineContext } from '../../src/engine/engine-context';

export interface BackupWorld {
  store: Store;
  env: { id: number; name: string };
  ctx: EngineContext;
  accessories: Accessories;
  backups: Backups;
}

export async function openBackupWorld(o: { runtime: DockerRuntime; dataDir: string; logger: Logger; project: string; files?: BackupFiles; jetstream?: JetStreamAdmin }): Promise<BackupWorld> {
  const store = await openSqliteStore({ file: ':memory:', logger: o.logger });
  await store.migrate();
  const p = await store.upsertProject(o.project);
  const e = await store.ensureEnvironment(p.id, 'production');
  const ctx = { store, runtime: o.runtime, cipher: new MasterKeyring({ dataDir: o.dataDir, env: {} }), logger: o.logger, probe: httpProbe, tcpProbe } as unknown as EngineContext;
  const accessories = new Accessories({ ctx, images: new DockerAccessoryImages(new Docker()), postgres: new PgPostgresAdmin({ logger: o.logger }) });
  ctx.accessories = accessories;
  const backups = new Backups({ ctx, accessories, files: o.files, jetstream: o.jetstream });
  ctx.backups = backups;
  return { store, env: { id: e.id, name: e.name }, ctx, accessories, backups };
}
