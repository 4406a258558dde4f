import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { prunedReleaseCommands, prunedReleaseMessage } from './pruned-release';

const digest = `sha256:${'a'.repeat(64)}`;

describe('prunedReleaseMessage', () => {
  it('names the release and offers redeploy --image and a rebuild from the commit', () => {
    const r = { number: 3, imageRef: 'slipway/shop-web:src-1a2b3c4', imageDigest: digest, sourceRef: `git:${'1a2b3c4d'.repeat(5)}` };
    const msg = prunedReleaseMessage(r, 'web', 'staging');
    assert.match(msg, /to v3: its image slipway\/shop-web:src-1a2b3c4 \(sha256:aaaaaaaaaaaa\) was pruned by image retention/);
    assert.ok(msg.includes('slipway redeploy web --env staging --image slipway/shop-web:src-1a2b3c4'), msg);
    assert.ok(msg.includes(`slipway deploy web --env staging --ref ${'1a2b3c4d'.repeat(5)}`), msg);
  });

  it('without a commit, the rebuild is a deploy of the source; production needs no --env', () => {
    const cmds = prunedReleaseCommands({ number: 1, imageRef: 'app:1', imageDigest: digest, sourceRef: null }, 'api', 'production');
    assert.deepEqual(cmds, { redeploy: 'slipway redeploy api --image app:1', rebuild: 'slipway deploy api' });
  });
});
