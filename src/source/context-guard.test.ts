import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DOCKERFILE_MAX_BYTES } from '../core/ports/context-guard';
import { fsContextGuard } from './context-guard';

test('readCheckoutDockerfile reads the Dockerfile of a checkout, never through a symlink, and refuses one over the limit', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'slipway-guard-'));
  try {
    mkdirSync(path.join(root, 'app'));
    writeFileSync(path.join(root, 'app', 'Dockerfile'), 'FROM slipway/node:20\n');
    writeFileSync(path.join(root, 'outside'), 'FROM other:1\n');
    symlinkSync(path.join(root, 'outside'), path.join(root, 'app', 'Linked'));
    writeFileSync(path.join(root, 'app', 'Huge'), `FROM a:1\n${'#'.repeat(DOCKERFILE_MAX_BYTES)}\n`);
    const c = { root, base: '', context: 'app', dockerfile: 'Dockerfile', field: 'services.web.build' };
    assert.equal(await fsContextGuard.readCheckoutDockerfile(c), 'FROM slipway/node:20\n');
    await assert.rejects(fsContextGuard.readCheckoutDockerfile({ ...c, dockerfile: 'Linked' }), { code: 'SLW_CONFIG_INVALID' });
    await assert.rejects(fsContextGuard.readCheckoutDockerfile({ ...c, dockerfile: 'Huge' }), (e: { code: string; message: string; details: Array<{ path: string }> }) => {
      assert.equal(e.code, 'SLW_CONFIG_INVALID');
      assert.match(e.message, /^services\.web\.build\.dockerfile: "Huge" is larger than/);
      assert.equal(e.details[0]?.path, 'services.web.build.dockerfile');
      return true;
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
