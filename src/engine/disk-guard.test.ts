import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { parseMinFreeDisk } from '../core/disk-threshold';
import type { NewOutboxEvent } from '../core/ports/store';
import { DiskGuard } from './disk-guard';

const GiB = 2 ** 30;

function setup(min = '10%,2GiB', initial: string | null = null) {
  const disk = { totalBytes: 100 * GiB, availableBytes: 50 * GiB };
  const settings = new Map<string, string>(initial ? [['disk-low', initial]] : []);
  const events: NewOutboxEvent[] = [];
  const paths: string[] = [];
  let infoCalls = 0;
  const guard = new DiskGuard({
    runtime: {
      engineInfo: async () => {
        infoCalls++;
        return { version: '1', os: '', kernel: '', cpus: 1, memoryBytes: 1, containers: 0, containersRunning: 0, images: 0, liveRestore: true, rootDir: '/var/lib/docker' };
      },
    },
    host: {
      disk: async (p) => {
        paths.push(p);
        return { path: p, ...disk };
      },
    },
    store: {
      getSetting: async (k) => settings.get(k) ?? null,
      setSetting: async (k, v) => void settings.set(k, v),
      appendOutboxEvent: async (e) => void events.push(e),
    },
    logger: pino({ level: 'silent' }),
    min: parseMinFreeDisk(min),
  });
  return { guard, disk, events, paths, infoCalls: () => infoCalls };
}

describe('DiskGuard', () => {
  it('measures Docker\'s data root, asking the engine where it is once', async () => {
    const t = setup();
    await t.guard.check();
    await t.guard.check();
    assert.deepEqual(t.paths, ['/var/lib/docker', '/var/lib/docker']);
    assert.equal(t.infoCalls(), 1);
  });

  it('refuses with SLW_LOW_DISK naming what was refused and the free space; lets it through otherwise', async () => {
    const t = setup();
    await t.guard.assertRoom('deploying web');
    t.disk.availableBytes = 5 * GiB;
    await assert.rejects(t.guard.assertRoom('deploying web'), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'SLW_LOW_DISK');
      assert.match(err.message, /^deploying web refused: low disk on \/var\/lib\/docker \(5\.0 GiB free of 100 GiB \(needs 10 GiB\); SLIPWAY_MIN_FREE_DISK\)/);
      return true;
    });
  });

  it('notifies disk.low once per crossing, with hysteresis, and not again after a restart', async () => {
    const t = setup();
    const at = async (gib: number) => {
      t.disk.availableBytes = gib * GiB;
      return (await t.guard.check()).low;
    };
    assert.equal(await at(50), false);
    assert.equal(await at(9), true);
    assert.equal(await at(9.5), true);
    assert.equal(await at(10.2), true, 'just above the bound: still low (hysteresis)');
    assert.equal(t.events.length, 1);
    assert.equal(t.events[0]!.type, 'disk.low');
    assert.equal(t.events[0]!.payload.path, '/var/lib/docker');
    assert.equal(await at(20), false);
    assert.equal(await at(8), true);
    assert.equal(t.events.length, 2, 'a second crossing notifies again');

    // A restarted control plane reads the state it left: low stays low without a new event.
    const restarted = setup('10%,2GiB', 'low');
    restarted.disk.availableBytes = 5 * GiB;
    assert.equal((await restarted.guard.check()).low, true);
    assert.equal(restarted.events.length, 0);
  });

  it('a disk that cannot be read does not block deploys', async () => {
    const t = setup();
    const broken = new DiskGuard({
      runtime: { engineInfo: async () => Promise.reject(new Error('docker down')) },
      host: { disk: async () => Promise.reject(new Error('nope')) },
      store: { getSetting: async () => null, setSetting: async () => undefined, appendOutboxEvent: async () => undefined },
      logger: pino({ level: 'silent' }),
      min: parseMinFreeDisk('100%'),
    });
    await broken.assertRoom('deploying web');
    assert.equal(t.events.length, 0);
  });
});
